package target

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAttributesOptionsPassEveryField: GetAttributes hands every option but
// its callbacks to GetOffers, so a field added to CallOptions later is not
// silently dropped.
func TestAttributesOptionsPassEveryField(t *testing.T) {
	t.Parallel()
	var o GetAttributesOptions
	v := reflect.ValueOf(&o).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch name := v.Type().Field(i).Name; name {
		case "Callback":
			o.Callback = func(*Attributes) {}
		case "ErrCallback":
			o.ErrCallback = func(error) {}
		default:
			fillNonZero(t, name, f)
		}
	}
	got := reflect.ValueOf(o.offers())
	for i := range got.NumField() {
		name := got.Type().Field(i).Name
		if name == "Callback" || name == "ErrCallback" {
			assert.True(t, got.Field(i).IsNil(), "%s is not passed on", name)
			continue
		}
		assert.Equal(t, v.FieldByName(name).Interface(), got.Field(i).Interface(), name)
	}
}

// fillNonZero gives f a value that is not its zero value.
func fillNonZero(t *testing.T, name string, f reflect.Value) {
	switch f.Kind() {
	case reflect.String:
		f.SetString("x-" + name)
	case reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem()))
	case reflect.Slice:
		f.Set(reflect.MakeSlice(f.Type(), 1, 1))
	case reflect.Struct:
		if f.Type() != reflect.TypeFor[DeliveryRequest]() {
			t.Fatalf("%s: fill a %s field", name, f.Type())
		}
		f.Set(reflect.ValueOf(DeliveryRequest{RequestID: "r-" + name}))
	default:
		t.Fatalf("%s: fill a %s field", name, f.Kind())
	}
	assert.False(t, f.IsZero(), "%s is set", name)
}
