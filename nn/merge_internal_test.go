package nn

import "testing"

// A network that joins branches with every merge layer has the gradients central
// differences give.
func TestGradCheckMerges(t *testing.T) {
	b := NewBuilder("merges")
	x := b.Input(6, 6, 2)
	p := b.Apply(Conv2D(3, 3, Padding(Same), Activation(Tanh), Name("p")), x)
	q := b.Apply(Conv2D(3, 1, Activation(Sigmoid), Name("q")), x)
	r := b.Apply(Conv2D(3, 3, Padding(Same), Name("r")), x)
	mul := b.Apply(Multiply(), p, q, r)
	avg := b.Apply(Average(), p, q)
	mx := b.Apply(Maximum(), p, r)
	sub := b.Apply(Subtract(), mx, q)
	y := b.Apply(Concatenate(), mul, avg, sub)
	y = b.Apply(GlobalAvgPool2D(), y)
	v := b.Apply(Dense(4, Activation(Tanh), Name("v")), y)
	y = b.Apply(Concatenate(), y, v)
	y = b.Apply(Dense(3, Activation(Softmax), Name("head")), y)
	m, err := b.Model(y)
	if err != nil {
		t.Fatal(err)
	}
	gradCheckModel(t, m, 2, 20)
}
