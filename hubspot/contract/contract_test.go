package contract_test

import (
	"bufio"
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimbridge/scimbridge/hubspot/contract"
)

// TestDocumentValidates loads openapi.yaml afresh and validates it as an
// OpenAPI 3.0 document, formats, defaults and patterns included.
func TestDocumentValidates(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(contract.Document())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation(),
		openapi3.EnableSchemaDefaultsValidation(), openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q, want 3.0.3", doc.OpenAPI)
	}
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Operations()) == 0 {
		t.Fatal("no operations")
	}
}

var (
	methodLine  = regexp.MustCompile(`^    (get|put|post|patch|delete):\s*$`)
	sourceLine  = regexp.MustCompile(`^    # Source: \S`)
	versionPath = regexp.MustCompile(`/(2026-03|2026-09|2026-09-beta|v3|v1)(/|$)`)
)

// TestEveryOperationCitesItsSource: each operation of openapi.yaml is
// preceded by a "# Source:" comment naming the spec file it was checked
// against, or the other source where the spec is silent.
func TestEveryOperationCitesItsSource(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(contract.Document()))
	inPaths, path, prev, n := false, "", "", 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && !strings.HasPrefix(line, " ") && line != "" && !strings.HasPrefix(line, "#"):
			inPaths = false
		case inPaths && strings.HasPrefix(line, "  /"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case inPaths && methodLine.MatchString(line):
			n++
			if !sourceLine.MatchString(prev) {
				t.Errorf("%s %s: no \"# Source:\" comment on the line above", strings.TrimSuffix(strings.TrimSpace(line), ":"), path)
			}
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(c.Operations()) {
		t.Errorf("found %d operation lines, the document has %d operations", n, len(c.Operations()))
	}
}

// TestPathsAreConcrete: one path per version, each with its version
// segment, no {version} template.
func TestPathsAreConcrete(t *testing.T) {
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range c.Operations() {
		_, path, _ := strings.Cut(op, " ")
		if strings.Contains(path, "{version}") || !versionPath.MatchString(path) {
			t.Errorf("%s: want a concrete version segment", op)
		}
	}
	ctx := context.Background()
	for path, item := range c.Doc().Paths.Map() {
		for method, op := range item.Operations() {
			for _, status := range []string{"429", "5XX", "default"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s %s: no %s answer", method, path, status)
				}
			}
			if err := op.Validate(ctx); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
			}
		}
	}
}
