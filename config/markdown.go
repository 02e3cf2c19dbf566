package config

import (
	"strings"
)

// Markdown renders the definition set as a Markdown table: key, type,
// default, and documentation. The README's configuration reference is made
// of these tables and a test keeps the two equal.
func (d *Def) Markdown() string {
	var b strings.Builder
	b.WriteString("| key | type | default | description |\n")
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, k := range d.keys {
		def := ""
		switch {
		case k.Required:
			def = "(required)"
		case k.HasDefault && k.Default == "":
			def = `""`
		case k.HasDefault:
			def = "`" + k.Default + "`"
		}
		b.WriteString("| `" + k.Name + "` | " + k.Type.String() + " | " + def + " | " + escapeCell(k.Doc) + " |\n")
	}
	return b.String()
}

func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
