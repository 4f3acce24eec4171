package jsoncodecs

// newArtifact returns the value an artifact decodes into. Until the
// artifact's declaration is importable, a generic value stands in, which
// is what most of the artifact's rules decode to anyway (conditions,
// content and meta are untyped JSON).
func newArtifact() any { return new(map[string]any) }
