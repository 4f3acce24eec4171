package delivery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// collectRequests finds objects with a "context" key in v.
func collectRequests(v any, out *[]any) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["context"]; ok {
			if _, ok2 := x["execute"]; ok2 {
				*out = append(*out, x)
			} else if _, ok2 := x["prefetch"]; ok2 {
				*out = append(*out, x)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			collectRequests(x[k], out)
		}
	case []any:
		for _, e := range x {
			collectRequests(e, out)
		}
	}
}

func deepCopy(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

var replacements = []any{5, "s", []any{1}, map[string]any{}, nil, true, 1e300}

// mutations: each path replaced with each replacement, and each key upper-cased.
func mutate(v any) []any {
	var out []any
	var paths [][]any
	var walk func(v any, p []any)
	walk = func(v any, p []any) {
		paths = append(paths, append([]any(nil), p...))
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k], append(p, k))
			}
		case []any:
			for i, e := range x {
				walk(e, append(p, i))
			}
		}
	}
	walk(v, nil)
	set := func(root any, p []any, f func(parent any, key any)) any {
		c := deepCopy(root)
		cur := c
		for _, s := range p[:len(p)-1] {
			switch k := s.(type) {
			case string:
				cur = cur.(map[string]any)[k]
			case int:
				cur = cur.([]any)[k]
			}
		}
		f(cur, p[len(p)-1])
		return c
	}
	for _, p := range paths {
		if len(p) == 0 {
			continue
		}
		for _, r := range replacements {
			out = append(out, set(v, p, func(parent any, key any) {
				switch k := key.(type) {
				case string:
					parent.(map[string]any)[k] = r
				case int:
					parent.([]any)[k] = r
				}
			}))
		}
		if k, ok := p[len(p)-1].(string); ok {
			out = append(out, set(v, p, func(parent any, key any) {
				m := parent.(map[string]any)
				m[strings.ToUpper(k)] = m[k]
				delete(m, k)
			}))
		}
	}
	return out
}

func TestRTCorpus(t *testing.T) {
	outPath := os.Getenv("RT_CORPUS_OUT")
	if outPath == "" {
		t.Skip("RT_CORPUS_OUT not set")
	}
	files, _ := filepath.Glob("/work/shared/reference/target-sdk-testing/schema/models/*.json")
	files2, _ := filepath.Glob("/work/shared/reference/delivery-api/delivery/examples/*.json")
	var reqs []any
	for _, f := range append(files, files2...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			continue
		}
		collectRequests(v, &reqs)
	}
	var inputs [][]byte
	for _, r := range reqs {
		b, _ := json.Marshal(r)
		inputs = append(inputs, b)
		for _, m := range mutate(r) {
			b, _ := json.Marshal(m)
			inputs = append(inputs, b)
		}
	}
	var sb strings.Builder
	for i, in := range inputs {
		for _, strict := range []bool{false, true} {
			read := func() (delivery.Request, error) {
				var r delivery.Request
				if strict {
					return r, delivery.UnmarshalRequestStrict(in, &r)
				}
				return r, json.Unmarshal(in, &r)
			}
			r, err := read()
			line := ""
			if err != nil {
				var te *json.UnmarshalTypeError
				param := errors.Is(err, delivery.ErrParameterType)
				if errors.As(err, &te) && te.Type.String() == "delivery.Parameters" {
					param = true
				}
				if strings.Contains(err.Error(), "RawMessage") {
					param = true
				}
				line = fmt.Sprintf("ERR param=%v %v", param, err)
				if param {
					line = "ERR param=true"
				}
			} else {
				out, _ := json.Marshal(r)
				allocs := testing.AllocsPerRun(3, func() { _, _ = read() })
				line = fmt.Sprintf("OK allocs=%v %s", allocs, out)
			}
			fmt.Fprintf(&sb, "%d %v %s\n", i, strict, line)
		}
	}
	t.Logf("%d requests, %d inputs", len(reqs), len(inputs))
	if err := os.WriteFile(outPath, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
