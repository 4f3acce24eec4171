package delivery

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// BenchmarkFindDuplicate is the duplicate scan alone over a request with
// one mbox of n parameters: compare with BenchmarkManyParams (the whole
// decode) at the same n.
func BenchmarkFindDuplicate(b *testing.B) {
	t := reflect.TypeFor[*Request]()
	for _, n := range []int{10, 1000, 10000, 40000} {
		var sb strings.Builder
		sb.WriteString(`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `"p%07d":"v"`, i)
		}
		sb.WriteString(`}}]}}`)
		body := []byte(sb.String())
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if findDuplicate(body, t) != nil {
					b.Fatal("duplicate")
				}
			}
		})
	}
}
