package config

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix+"_") {
			m[k] = v
		}
	}
	return m
}

// applyEnv overrides configuration values from the environment. Each
// setting's variable is SCIMBRIDGE_ followed by its YAML path in upper case
// joined by "_": server.listen is SCIMBRIDGE_SERVER_LISTEN, the token of the
// first auth token SCIMBRIDGE_AUTH_TOKENS_0_TOKEN. Appending _FILE reads the
// value from a file (trailing newline removed), for secrets mounted by an
// orchestrator. List elements can be added past the file's ones.
func applyEnv(cfg *Config, env map[string]string) error {
	if len(env) == 0 {
		return nil
	}
	return walk(reflect.ValueOf(cfg).Elem(), EnvPrefix, env)
}

func lookup(env map[string]string, name string) (string, bool, error) {
	if v, ok := env[name]; ok {
		return v, true, nil
	}
	if file, ok := env[name+"_FILE"]; ok {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", false, fmt.Errorf("config: %s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(data), "\r\n"), true, nil
	}
	return "", false, nil
}

func hasPrefix(env map[string]string, prefix string) bool {
	for k := range env {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func walk(v reflect.Value, name string, env map[string]string) error {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			field := name + "_" + strings.ToUpper(tag)
			switch {
			case !f.IsExported() || tag == "-":
				continue
			case tag == "" && opts == "inline":
				field = name // an adapter's settings, inline in the section
			case tag == "":
				continue
			}
			if err := walk(v.Field(i), field, env); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			for i := 0; ; i++ {
				prefix := name + "_" + strconv.Itoa(i)
				if i >= v.Len() {
					if !hasPrefix(env, prefix+"_") {
						return nil
					}
					v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
				}
				if err := walk(v.Index(i), prefix, env); err != nil {
					return err
				}
			}
		}
	}
	s, ok, err := lookup(env, name)
	if err != nil || !ok {
		return err
	}
	return set(v, name, s)
}

func set(v reflect.Value, name, s string) error {
	bad := func(want string) error { return fmt.Errorf("config: %s: %q is not %s", name, s, want) }
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return bad("a duration such as 30s")
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad("a boolean")
		}
		v.SetBool(b)
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad("an integer")
		}
		v.SetInt(n)
	case v.Kind() >= reflect.Uint && v.Kind() <= reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return bad("a non-negative integer")
		}
		v.SetUint(n)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return bad("a number")
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var list []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("config: %s cannot be set from the environment", name)
	}
	return nil
}
