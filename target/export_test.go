package target

// Test hooks: the external tests check the hash and the bucket against the
// values Adobe's SDKs publish, which use their own keys and salts.
var (
	Murmur3UTF16 = murmur3UTF16
	BucketOf     = bucketOf
)

// EvalLogic compiles and evaluates a json-logic condition.
func EvalLogic(logic, data any) (any, error) {
	c, err := compileLogic(logic)
	if err != nil {
		return nil, err
	}
	return c.eval(data), nil
}

var JSNumberString = jsNumberString
