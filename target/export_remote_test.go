package target

// ErrCallGoexit is the error of a call whose work called runtime.Goexit.
var ErrCallGoexit = errCallGoexit
