package jsoncodecs

import "github.com/target-go/sdk/target/internal/artifact"

// newArtifact returns the value an artifact decodes into: the declaration
// the engine's parser reads.
func newArtifact() any { return new(artifact.Document) }
