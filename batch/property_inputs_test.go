package batch_test

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyRegressionInputs replays each input kept in
// testdata/rapid/TestPropertyEveryFutureSettlesExactlyOnce (rapid fail
// files: the bits a failing graph was drawn from, with the draws written
// as comments) through the property, as rapid does before its random
// graphs. rapid skips a kept input the property no longer reads without
// failing, and would replay one its draws now read differently as another
// graph; this test fails instead: when the property fails on the input,
// when the input is too short for the property's draws, or when the draws
// differ from those the file recorded. A failure of the last two kinds
// means the property changed: make the graph the file describes again
// (new fail file from rapid.MakeFuzz's bits) or drop the file knowingly.
func TestPropertyRegressionInputs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "rapid", "TestPropertyEveryFutureSettlesExactlyOnce", "*.fail"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no kept inputs found (%v): the files moved, or the property's name changed", err)
	}
	for _, file := range files {
		recorded, input := readFailFile(t, file)
		var drawn []string
		var replay *testing.T
		t.Run(filepath.Base(file), func(t *testing.T) {
			replay = t
			rapid.MakeFuzz(everyFutureSettlesExactlyOnce(&drawn))(t, input)
		})
		if replay.Skipped() {
			t.Errorf("%s: the property draws more than the input holds (rapid skipped it)", file)
			continue
		}
		if !slices.Equal(drawn, recorded) {
			t.Errorf("%s: the property drew\n%s\nwhere the file recorded\n%s", file, strings.Join(drawn, "\n"), strings.Join(recorded, "\n"))
		}
	}
}

// readFailFile reads a rapid fail file: the draws it records in its
// comments ("# draw label: value", returned without "draw "), and its bits
// (after the "version#seed" line, one uint64 a line) as the bytes
// rapid.MakeFuzz reads them from (8 a value, little-endian).
func readFailFile(t *testing.T, name string) (recorded []string, input []byte) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	header := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			// "# draw ...", or as rapid writes it, after a time, the
			// test's name and "[rapid] ".
			c := strings.TrimSpace(strings.TrimPrefix(line, "#"))
			if _, after, ok := strings.Cut(c, "[rapid] "); ok {
				c = after
			}
			if d, ok := strings.CutPrefix(c, "draw "); ok {
				recorded = append(recorded, d)
			}
		case !header:
			header = true // version#seed: MakeFuzz needs neither
		default:
			u, err := strconv.ParseUint(line, 0, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			input = binary.LittleEndian.AppendUint64(input, u)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(recorded) == 0 || len(input) == 0 {
		t.Fatalf("%s: no draws recorded or no bits", name)
	}
	return recorded, input
}
