package plan

import (
	"errors"
	"testing"
)

// TestProtoErrText: the protobuf module puts a no-break space after
// "proto:" in some builds; the plan error is the same from every build.
func TestProtoErrText(t *testing.T) {
	for _, in := range []string{"proto:\u00a0(line 1:24): bad", "proto: (line 1:24): bad"} {
		if got := protoErrText(errors.New(in)); got != "proto: (line 1:24): bad" {
			t.Errorf("%q → %q", in, got)
		}
	}
}
