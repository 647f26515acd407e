package zoo

import (
	"strings"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/nn"
)

// Backbone names the layers of m that make up the zoo model name's backbone, driven by
// the model's registered [Info]: every layer with parameters except its Head. m is the
// zoo model itself (after [nn.Model.ReplaceHead], say) or a model that holds it as a
// nested model ([nn.Builder.Call]); then only the nested model's layers count, its
// classifier included when it kept one. It fails if name is not registered or m holds
// none of its layers.
func Backbone(m *nn.Model, name string) ([]string, error) {
	info, prefix, err := placed(m, name)
	if err != nil {
		return nil, err
	}
	head := map[string]bool{}
	for _, h := range info.Head {
		head[prefix+h] = true
	}
	var out []string
	for _, l := range m.Layers() {
		if len(l.Params) > 0 && strings.HasPrefix(l.Name, prefix) && !head[l.Name] {
			out = append(out, l.Name)
		}
	}
	if len(out) == 0 {
		return nil, errors.Errorf("zoo: model %q holds no layer of %q's backbone", m.Name(), name)
	}
	return out, nil
}

// LastStage names the last stage of the zoo model name's backbone inside m (layer names
// or prefixes such as "stage3/", under the nested model's block when m holds it by
// [nn.Builder.Call]): what the second phase of a two-phase fine-tuning unfreezes.
func LastStage(m *nn.Model, name string) ([]string, error) {
	info, prefix, err := placed(m, name)
	if err != nil {
		return nil, err
	}
	if len(info.LastStage) == 0 {
		return nil, errors.Errorf("zoo: model %q names no last stage", name)
	}
	out := make([]string, len(info.LastStage))
	for i, s := range info.LastStage {
		out[i] = prefix + s
	}
	return out, nil
}

// FreezeBackbone freezes the zoo model name's backbone in m (see [Backbone]): the first
// phase of Keras's fine-tuning recipe. Its BatchNorms then run in inference mode.
func FreezeBackbone(m *nn.Model, name string) error {
	layers, err := Backbone(m, name)
	if err != nil {
		return err
	}
	return m.Freeze(layers...)
}

// UnfreezeLastStage makes the last stage of the zoo model name's backbone in m trainable
// again (see [LastStage]): the second phase of the recipe.
func UnfreezeLastStage(m *nn.Model, name string) error {
	stage, err := LastStage(m, name)
	if err != nil {
		return err
	}
	return m.Unfreeze(stage...)
}

// placed finds name's registration and the block prefix its layers have in m.
func placed(m *nn.Model, name string) (Info, string, error) {
	info, ok := Lookup(name)
	if !ok {
		return Info{}, "", errors.Errorf("zoo: unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	for _, p := range m.Nested() {
		if p == name || strings.HasSuffix(p, "/"+name) {
			return info, p + "/", nil
		}
	}
	return info, "", nil
}
