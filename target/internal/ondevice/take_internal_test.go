package ondevice

import "testing"

// take(&free, 0) is an empty list, never nil: its callers hand what it
// returns to the response, where a nil list is left out ("options" is
// omitzero) but Adobe's engine writes "options": []. The room is left as
// it was, and an append to the empty list cannot write into it.
func TestTakeNoneIsAnEmptyList(t *testing.T) {
	room := make([]int, 3)
	for _, free := range [][]int{nil, {}, room} {
		before := len(free)
		got := take(&free, 0)
		if got == nil || len(got) != 0 || cap(got) != 0 {
			t.Fatalf("take(room of %d, 0) = %#v (len %d, cap %d), want an empty non-nil list of no capacity", before, got, len(got), cap(got))
		}
		if len(free) != before {
			t.Fatalf("take(room of %d, 0) left a room of %d", before, len(free))
		}
		_ = append(got, 7)
	}
	if room[0] != 0 {
		t.Fatalf("an append to take's empty list wrote into the room: %v", room)
	}
	if n := testing.AllocsPerRun(100, func() {
		free := room[:]
		_ = take(&free, 0)
	}); n != 0 {
		t.Fatalf("take(&free, 0) allocates %v times, want 0", n)
	}
}
