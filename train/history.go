package train

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/pkg/errors"
)

// EpochLogs are one epoch's results. Validation fields are NaN when there was no
// validation set (and are written as null in JSON, empty in CSV).
type EpochLogs struct {
	Epoch       int     `json:"epoch"` // 1-based
	Loss        float64 `json:"loss"`
	Accuracy    float64 `json:"accuracy"`
	ValLoss     float64 `json:"val_loss"`
	ValAccuracy float64 `json:"val_accuracy"`
	LR          float64 `json:"learning_rate"`
	Seconds     float64 `json:"seconds"`
	ImagesPerS  float64 `json:"images_per_second"`
	// Metrics holds further results by Keras's names: each output's loss and accuracy in a
	// model with several outputs ("class_loss", "class_accuracy", "val_class_loss", ...).
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// History is the record of a training run, epoch by epoch, like Keras's History.
type History struct {
	Model  string      `json:"model"`
	Epochs []EpochLogs `json:"epochs"`
}

// Last returns the last epoch's logs, or false if there is none.
func (h *History) Last() (EpochLogs, bool) {
	if h == nil || len(h.Epochs) == 0 {
		return EpochLogs{}, false
	}
	return h.Epochs[len(h.Epochs)-1], true
}

// jsonFloat writes NaN and infinities as null.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = jsonFloat(v)
	return err
}

type epochJSON struct {
	Epoch       int                  `json:"epoch"`
	Loss        jsonFloat            `json:"loss"`
	Accuracy    jsonFloat            `json:"accuracy"`
	ValLoss     jsonFloat            `json:"val_loss"`
	ValAccuracy jsonFloat            `json:"val_accuracy"`
	LR          jsonFloat            `json:"learning_rate"`
	Seconds     jsonFloat            `json:"seconds"`
	ImagesPerS  jsonFloat            `json:"images_per_second"`
	Metrics     map[string]jsonFloat `json:"metrics,omitempty"`
}

// MarshalJSON writes NaN validation values as null.
func (e EpochLogs) MarshalJSON() ([]byte, error) {
	var metrics map[string]jsonFloat
	if len(e.Metrics) > 0 {
		metrics = make(map[string]jsonFloat, len(e.Metrics))
		for k, v := range e.Metrics {
			metrics[k] = jsonFloat(v)
		}
	}
	return json.Marshal(epochJSON{e.Epoch, jsonFloat(e.Loss), jsonFloat(e.Accuracy), jsonFloat(e.ValLoss),
		jsonFloat(e.ValAccuracy), jsonFloat(e.LR), jsonFloat(e.Seconds), jsonFloat(e.ImagesPerS), metrics})
}

// UnmarshalJSON reads null as NaN.
func (e *EpochLogs) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = EpochLogs{j.Epoch, float64(j.Loss), float64(j.Accuracy), float64(j.ValLoss), float64(j.ValAccuracy),
		float64(j.LR), float64(j.Seconds), float64(j.ImagesPerS), nil}
	if len(j.Metrics) > 0 {
		e.Metrics = make(map[string]float64, len(j.Metrics))
		for k, v := range j.Metrics {
			e.Metrics[k] = float64(v)
		}
	}
	return nil
}

// WriteJSON writes the history as indented JSON.
func (h *History) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return errors.Wrap(enc.Encode(h), "train: writing history")
}

// ReadHistory reads a history written by WriteJSON.
func ReadHistory(r io.Reader) (*History, error) {
	var h History
	if err := json.NewDecoder(r).Decode(&h); err != nil {
		return nil, errors.Wrap(err, "train: reading history")
	}
	return &h, nil
}

// WriteCSV writes one row per epoch under a header: epoch, loss, accuracy, val_loss,
// val_accuracy, learning_rate, seconds, images_per_second, then the names of
// [EpochLogs.Metrics], sorted.
func (h *History) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds", "images_per_second"}
	var extra []string
	seen := map[string]bool{}
	for _, e := range h.Epochs {
		for k := range e.Metrics {
			if !seen[k] {
				seen[k] = true
				extra = append(extra, k)
			}
		}
	}
	sort.Strings(extra)
	rows := [][]string{append(header, extra...)}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 8, 64)
	}
	for _, e := range h.Epochs {
		row := []string{strconv.Itoa(e.Epoch), f(e.Loss), f(e.Accuracy), f(e.ValLoss),
			f(e.ValAccuracy), f(e.LR), f(e.Seconds), f(e.ImagesPerS)}
		for _, k := range extra {
			v, ok := e.Metrics[k]
			if !ok {
				v = math.NaN()
			}
			row = append(row, f(v))
		}
		rows = append(rows, row)
	}
	if err := cw.WriteAll(rows); err != nil {
		return errors.Wrap(err, "train: writing history CSV")
	}
	return nil
}
