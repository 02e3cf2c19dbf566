package main

import (
	"github.com/tributary-io/tributary/cmd/internal/bundled"
	"strings"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connectors/filesink"
	"github.com/tributary-io/tributary/connectors/filesource"
)

// configReference lists the definition sets that the README's
// configuration reference documents, in order. The reference is generated
// from them (go test ./cmd/tributary -run TestREADMEReference -update).
func configReference() []*config.Def {
	return []*config.Def{
		bundled.WorkerDef(),
		filesource.Def(),
		filesink.Def(),
		broker.Definitions(),
	}
}

// referenceMarkdown renders the configuration reference section.
func referenceMarkdown(defs []*config.Def) string {
	var b strings.Builder
	for _, d := range defs {
		b.WriteString("\n### " + d.Name() + "\n\n")
		b.WriteString(d.Markdown())
	}
	return b.String()
}
