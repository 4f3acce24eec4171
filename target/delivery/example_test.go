package delivery_test

import (
	"encoding/json"
	"fmt"

	"github.com/target-go/sdk/target/delivery"
)

// Option content goes out as written: json.Marshal would send the HTML as
// "\u003cp\u003eHello\u003c/p\u003e".
func ExampleMarshal() {
	b, err := delivery.Marshal(delivery.Option{Type: delivery.OptionTypeHTML, Content: json.RawMessage(`"<p>Hello</p>"`)})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output: {"type":"html","content":"<p>Hello</p>"}
}
