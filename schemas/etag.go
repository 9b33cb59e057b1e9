package schemas

import (
	"strconv"
	"strings"
)

// ETag renders a resource version as a weak entity tag: W/"7".
func ETag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// ParseETag reads an entity tag written by ETag, weak or strong, and reports
// whether it had that shape.
func ParseETag(tag string) (int64, bool) {
	tag = strings.TrimSpace(tag)
	tag = strings.TrimPrefix(tag, "W/")
	if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	return v, err == nil
}
