package delivery_test

import (
	"encoding/json"
	"errors"
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

// Adobe's SDKs send numbers and booleans as mbox parameters; they are read
// as the text JavaScript's String() makes of them. Arrays and objects are
// refused, naming the parameter.
func ExampleParameters() {
	var m delivery.MboxRequest
	err := json.Unmarshal([]byte(`{"name":"hero","index":1,"parameters":{"browserWidth":1024,"loggedIn":true,"big":1e21}}`), &m)
	fmt.Println(m.Parameters["browserWidth"], m.Parameters["loggedIn"], m.Parameters["big"], err)

	err = json.Unmarshal([]byte(`{"name":"hero","parameters":{"tags":["a","b"]}}`), &m)
	fmt.Println(errors.Is(err, delivery.ErrParameterType), err)
	// Output:
	// 1024 true 1e+21 <nil>
	// true parameter "tags": a parameter value must be a string, number or boolean, not an array
}

// A geo field given as "" is geo data (no lookup is made for the request,
// and the response token is ""); a field that is not there is not.
func ExampleGeo_Has() {
	var g delivery.Geo
	if err := json.Unmarshal([]byte(`{"city":"","countryCode":"RO"}`), &g); err != nil {
		panic(err)
	}
	fmt.Println(g.Has("city"), g.Has("countryCode"), g.Has("stateCode"))
	b, _ := json.Marshal(g)
	fmt.Println(string(b))
	// Output:
	// true true false
	// {"countryCode":"RO","city":""}
}

// A json.Decoder's DisallowUnknownFields does not reach a Request's own
// UnmarshalJSON; UnmarshalRequestStrict checks every name, in any case.
func ExampleUnmarshalRequestStrict() {
	var r delivery.Request
	err := delivery.UnmarshalRequestStrict([]byte(`{"context":{"channel":"web","geo":{"City":"Bucharest"}}}`), &r)
	fmt.Println(err)
	err = delivery.UnmarshalRequestStrict([]byte(`{"context":{"channel":"web","geo":{"city":"Bucharest"}}}`), &r)
	fmt.Println(r.Context.Geo.City, err)
	// Output:
	// json: unknown field "context.geo.City"
	// Bucharest <nil>
}
