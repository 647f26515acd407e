package nn_test

import (
	"strings"
	"testing"
)

func TestFreezeUpToAndReplaceHead(t *testing.T) {
	m := courseCNN(t)
	if err := m.FreezeUpTo("conv2d_1"); err != nil {
		t.Fatal(err)
	}
	_, trainable, _ := m.ParamCounts()
	if trainable != 313700+1010 {
		t.Errorf("trainable %d after FreezeUpTo(conv2d_1)", trainable)
	}
	if err := m.FreezeUpTo("nope"); err == nil || !strings.Contains(err.Error(), `no layer "nope"`) {
		t.Errorf("error %v", err)
	}
	if got := m.HeadLayer(); got != "dense_1" {
		t.Errorf("head %q", got)
	}
	m.Param("conv2d/kernel").Value.Data().([]float32)[0] = 0.125
	five, err := m.ReplaceHead(5, 9)
	if err != nil {
		t.Fatal(err)
	}
	if s := five.OutputShape(); s[0] != 5 {
		t.Errorf("output %v", s)
	}
	if v := five.Param("conv2d/kernel").Value.Data().([]float32)[0]; v != 0.125 {
		t.Errorf("backbone weight not copied: %v", v)
	}
	if five.Param("conv2d/kernel").Trainable || !five.Param("dense_1/kernel").Trainable {
		t.Error("frozen state not kept")
	}
	again, err := m.ReplaceHead(10, 9)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := again.Param("dense_1/kernel").Value.Data().([]float32), m.Param("dense_1/kernel").Value.Data().([]float32); a[0] == b[0] {
		t.Error("a head replaced for as many classes kept its old weights")
	}
	if err := five.UnfreezeFrom("conv2d_1"); err != nil {
		t.Fatal(err)
	}
	if !five.Param("conv2d_1/kernel").Trainable || five.Param("conv2d/kernel").Trainable {
		t.Error("UnfreezeFrom")
	}
}
