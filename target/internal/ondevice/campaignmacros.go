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

// macroPattern is Adobe's /\$\{([a-zA-Z0-9_.]*?)\}/gi; ASCII letters are
// spelled out because RE2's case folding would also let 'ſ' and the Kelvin
// sign in.
var macroPattern = regexp.MustCompile(`\$\{([a-zA-Z0-9_.]*?)\}`)

// renameMacroWords renames "campaign" to "activity" and "recipe" to
// "experience" in a macro name. Adobe's engines find the words in any case
// but rename only the lower-case spellings; any other spelling becomes
// "undefined" (their lookup table has no entry for it), so ${Campaign.name}
// matches nothing and stays as written.
func renameMacroWords(name string) string {
	lower := strings.ToLower(name) // the name is ASCII
	var b strings.Builder
	for i := 0; i < len(name); {
		switch {
		case strings.HasPrefix(lower[i:], "campaign"):
			b.WriteString(macroWord(name[i:i+len("campaign")], "campaign", "activity"))
			i += len("campaign")
		case strings.HasPrefix(lower[i:], "recipe"):
			b.WriteString(macroWord(name[i:i+len("recipe")], "recipe", "experience"))
			i += len("recipe")
		default:
			b.WriteByte(name[i])
			i++
		}
	}
	return b.String()
}

func macroWord(found, word, replacement string) string {
	if found == word {
		return replacement
	}
	return "undefined"
}

// replaceMacros returns the content with its macros replaced, and whether
// anything changed; the artifact's own content is never modified.
func replaceMacros(optionType string, content any, r *rule, det *details) (any, bool) {
	switch optionType {
	case "html":
		if s, ok := content.(string); ok {
			expanded := expandMacros(s, r, det)
			if expanded == s {
				return content, false // boxing expanded again would allocate
			}
			return expanded, true
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
		parts := strings.Split(renameMacroWords(name), ".")
		if len(parts) > 2 {
			parts = parts[len(parts)-2:]
		}
		parts = slices.DeleteFunc(parts, func(p string) bool { return p == "mbox" })
		key := strings.Join(parts, ".")
		// The rule's meta, then the request details, then their
		// parameters; a value that is there, null included, is written as
		// JavaScript's String() writes it.
		if v, ok := r.meta[key]; ok {
			return jsonlogic.String(v)
		}
		if v, ok := detailsField(det, key); ok {
			return v
		}
		if det.req != nil {
			if v, ok := det.req.Parameters[key]; ok {
				return v
			}
		}
		return match
	})
}

// detailsField is a field of the request details as a macro reads it.
func detailsField(det *details, key string) (string, bool) {
	switch key {
	case "name":
		return det.name, det.name != ""
	case "index":
		return jsonlogic.String(float64(det.index)), det.indexed
	case "key":
		return det.key, det.key != ""
	}
	if det.req == nil {
		return "", false
	}
	var present bool
	switch key {
	case "parameters":
		present = det.req.Parameters != nil
	case "profileParameters":
		present = det.req.ProfileParameters != nil
	case "address":
		present = det.req.Address != nil
	case "order":
		present = det.req.Order != nil
	case "product":
		present = det.req.Product != nil
	}
	return "[object Object]", present
}
