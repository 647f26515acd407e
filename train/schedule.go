package train

import "math"

// Schedule gives the learning rate for a step (counted from 0 over the whole run).
type Schedule interface {
	LR(step int) float64
}

// Constant is a fixed learning rate.
type Constant float64

// LR returns the constant.
func (c Constant) LR(int) float64 { return float64(c) }

// StepDecay multiplies Base by Factor every Every steps.
type StepDecay struct {
	Base   float64
	Every  int
	Factor float64
}

// LR returns Base * Factor^(step/Every).
func (s StepDecay) LR(step int) float64 {
	if s.Every <= 0 {
		return s.Base
	}
	return s.Base * math.Pow(s.Factor, float64(step/s.Every))
}

// Cosine decays from Base to Min over Steps steps along half a cosine, then stays at Min.
type Cosine struct {
	Base, Min float64
	Steps     int
}

// LR returns the cosine-annealed rate.
func (c Cosine) LR(step int) float64 {
	if c.Steps <= 0 || step >= c.Steps {
		return c.Min
	}
	return c.Min + (c.Base-c.Min)*(1+math.Cos(math.Pi*float64(step)/float64(c.Steps)))/2
}

// Warmup rises linearly from 0 to Then's rate over Steps steps, then follows Then
// (counting its steps from the end of the warm-up).
type Warmup struct {
	Steps int
	Then  Schedule
}

// LR returns the warmed-up rate.
func (w Warmup) LR(step int) float64 {
	if step < w.Steps {
		return w.Then.LR(0) * float64(step+1) / float64(w.Steps)
	}
	return w.Then.LR(step - w.Steps)
}
