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

// BenchmarkManyParams decodes a request with one mbox of n parameters,
// next to plain encoding/json into a map (linear). The duplicate scan
// keeps an object's names in a set past linearNames, so the decode stays
// linear in n. Callgrind instructions per op (runs of 2 and 7 iterations,
// the difference divided by 5; BenchmarkFindDuplicate is the scan alone):
// n=10,000: scan 15.3 M of the decode's 166 M (9%); n=40,000: 61.4 M of
// 629 M (10%). When every name was compared with every earlier one, the
// scan was 15.6 times the rest of the decode at n=10,000.
func BenchmarkManyParams(b *testing.B) {
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

// BenchmarkTwoMboxDecode is a two-mbox request decoded into a Request.
func BenchmarkTwoMboxDecode(b *testing.B) {
	body := []byte(`{"requestId":"r","id":{"tntId":"t.1_0","marketingCloudVisitorId":"mc"},"context":{"channel":"web","userAgent":"Mozilla/5.0","address":{"url":"https://example.com/a?b=c","referringUrl":"https://ref.example/"},"geo":{"city":"Bucharest","latitude":44.4,"longitude":26.1}},"property":{"token":"pt"},"execute":{"mboxes":[{"name":"m1","index":1,"parameters":{"a":"1","b":"two"},"profileParameters":{"p":"q"}},{"name":"m2","index":2,"parameters":{"c":"3"}}]}}`)
	for b.Loop() {
		var r delivery.Request
		if err := json.Unmarshal(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}
