package target_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The package doc's "Where things live" names every file of the package,
// so that a file added later is placed in the tour, or the test fails.
func TestDocNamesEveryFile(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	_, tour, found := strings.Cut(string(doc), "# Where things live")
	require.True(t, found, "doc.go has no Where things live section")
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "doc.go" {
			continue
		}
		assert.Contains(t, tour, f, "doc.go's Where things live does not name %s", f)
	}
}
