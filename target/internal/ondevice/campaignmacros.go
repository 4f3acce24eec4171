package ondevice

import (
	"regexp"
	"slices"
	"strings"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// Campaign macros: offers written in Target's editor may contain
// ${offer.id}, ${campaign.name}, ${mbox.user} and the like, which the edge
// replaces when it answers. On-device decisions replace them the same way:
// the name is looked up in the rule's meta ("campaign" reads as "activity",
// "recipe" as "experience"), then in the request details (an mbox's name),
// then in its parameters. A macro with no value is left as written.

var macroPattern = regexp.MustCompile(`(?i)\$\{([a-z0-9_.]*?)\}`)

var macroNameWords = regexp.MustCompile(`(?i)campaign|recipe`)

func renameMacroWord(w string) string {
	if strings.EqualFold(w, "campaign") {
		return "activity"
	}
	return "experience"
}

// replaceMacros returns the content with its macros replaced, and whether
// anything changed; the artifact's own content is never modified.
func replaceMacros(optionType string, content any, r *rule, det *details) (any, bool) {
	switch optionType {
	case "html":
		if s, ok := content.(string); ok {
			expanded := expandMacros(s, r, det)
			return expanded, expanded != s
		}
	case "actions":
		actions, ok := content.([]any)
		if !ok {
			return content, false
		}
		var out []any // copied on the first change: artifact content is shared
		for i, a := range actions {
			action, ok := a.(map[string]any)
			if !ok {
				continue
			}
			s, ok := action["content"].(string)
			if !ok {
				continue
			}
			expanded := expandMacros(s, r, det)
			if expanded == s {
				continue
			}
			if out == nil {
				out = append([]any(nil), actions...)
			}
			changed := make(map[string]any, len(action))
			for k, v := range action {
				changed[k] = v
			}
			changed["content"] = expanded
			out[i] = changed
		}
		if out != nil {
			return out, true
		}
	}
	return content, false
}

func expandMacros(s string, r *rule, det *details) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return macroPattern.ReplaceAllStringFunc(s, func(match string) string {
		name := match[2 : len(match)-1]
		parts := strings.Split(macroNameWords.ReplaceAllStringFunc(name, renameMacroWord), ".")
		if len(parts) > 2 {
			parts = parts[len(parts)-2:]
		}
		parts = slices.DeleteFunc(parts, func(p string) bool { return p == "mbox" })
		key := strings.Join(parts, ".")
		if v, ok := r.meta[key]; ok && v != nil {
			return jsonlogic.String(v)
		}
		switch key {
		case "name":
			if det.name != "" {
				return det.name
			}
		case "index":
			return jsonlogic.String(float64(det.index))
		}
		if det.req != nil {
			if v, ok := det.req.Parameters[key]; ok {
				return v
			}
		}
		return match
	})
}
