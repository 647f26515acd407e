package limits

import "fmt"

// Image limits, checked on an image's header (image.DecodeConfig) before a pixel is
// decoded, by every reader of PNG and JPEG files and bytes.
const (
	// MaxImageFileBytes bounds an image file's size: 256 MiB.
	MaxImageFileBytes = 256 << 20
	// MaxImagePixels bounds the pixels an image's header may claim (8192x8192), so that
	// a forged header cannot make a reader allocate gigabytes.
	MaxImagePixels = 1 << 26
	// MaxResizeScratch bounds the values of a resize's scratch: the bilinear scaler
	// (golang.org/x/image/draw) first scales the rows, into a destination width x
	// source height scratch of four float64 each (32 bytes), so a 1x67,108,864 image
	// resized to 28 wide would need 56 GiB. 2^23 values are 256 MiB.
	MaxResizeScratch = 1 << 23
)

// CheckImage checks an image's size as its header claims it (width x height) against
// maxPixels (<= 0: [MaxImagePixels]) and, when it is to be resized to dstW x dstH, the
// resize's scratch against [MaxResizeScratch]. The error names the image.
func CheckImage(name string, width, height int, maxPixels int64, dstW, dstH int) error {
	if maxPixels <= 0 {
		maxPixels = MaxImagePixels
	}
	if width <= 0 || height <= 0 {
		return fmt.Errorf("%s: cannot decode image: it claims %dx%d pixels", name, width, height)
	}
	if int64(width)*int64(height) > maxPixels {
		return fmt.Errorf("%s: image of %dx%d pixels is too large (the limit is %d pixels)", name, width, height, maxPixels)
	}
	resize := width != dstW || height != dstH
	if scratch := int64(dstW) * int64(height); resize && scratch > MaxResizeScratch {
		return fmt.Errorf("%s: image of %dx%d pixels is too large to resize to %dx%d: the resize needs %s of scratch (%dx%d values), more than the limit of %s",
			name, width, height, dstW, dstH, FormatBytes(32*scratch), dstW, height, FormatBytes(32*MaxResizeScratch))
	}
	return nil
}
