package data

import (
	"bytes"
	"image"
)

// DecodeImage decodes a PNG or JPEG image held in memory as h×w×c bytes in HWC order,
// converted and resized as [ReadImage] does, with the same limits on the pixels its
// header may claim and on the resize's scratch; name appears in errors (an upload's file
// name, say).
func DecodeImage(b []byte, name string, h, w, c int) ([]uint8, error) {
	if err := checkShape(h, w, c); err != nil {
		return nil, err
	}
	dst := make([]uint8, h*w*c)
	if err := decodeImageInto(dst, bytes.NewReader(b), name, h, w, c); err != nil {
		return nil, err
	}
	return dst, nil
}

// ImageConfig returns an in-memory image's format and size from its header alone,
// without decoding a pixel.
func ImageConfig(b []byte) (image.Config, string, error) {
	return image.DecodeConfig(bytes.NewReader(b))
}
