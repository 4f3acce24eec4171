package delivery_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/target-go/sdk/target/delivery"
)

// manyParams is a request with one mbox holding n distinct parameters.
func manyParams(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"m","index":1,"parameters":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"p%07d":"v"`, i)
	}
	b.WriteString(`}}]}}`)
	return []byte(b.String())
}

// BenchmarkRedTeamManyParams: the duplicate scan compares each name with
// every earlier name of its object (quadratic); compare ns/op as n doubles
// against plain encoding/json into a map (linear).
func BenchmarkRedTeamManyParams(b *testing.B) {
	for _, n := range []int{5000, 10000, 20000, 40000} {
		body := manyParams(n)
		b.Run(fmt.Sprintf("Request/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var r delivery.Request
				if err := json.Unmarshal(body, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("plainMap/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				var m map[string]any
				if err := json.Unmarshal(body, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRedTeamTwoMboxDecode is a two-mbox request decoded into a
// Request (the commit message's "127 allocs/op, main 118").
func BenchmarkRedTeamTwoMboxDecode(b *testing.B) {
	body := []byte(`{"requestId":"r","id":{"tntId":"t.1_0","marketingCloudVisitorId":"mc"},"context":{"channel":"web","userAgent":"Mozilla/5.0","address":{"url":"https://example.com/a?b=c","referringUrl":"https://ref.example/"},"geo":{"city":"Bucharest","latitude":44.4,"longitude":26.1}},"property":{"token":"pt"},"execute":{"mboxes":[{"name":"m1","index":1,"parameters":{"a":"1","b":"two"},"profileParameters":{"p":"q"}},{"name":"m2","index":2,"parameters":{"c":"3"}}]}}`)
	for b.Loop() {
		var r delivery.Request
		if err := json.Unmarshal(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}
