package data

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/internal/limits"
)

// IDX magic numbers of the two kinds of file a data set is made of:
// unsigned bytes (0x08) in 3 dimensions (images) and in 1 dimension (labels).
const (
	MagicImages = 0x00000803
	MagicLabels = 0x00000801
)

// idxUbyte is the IDX element type code for unsigned bytes, the only type we read.
const idxUbyte = 0x08

// maxIDXBytes bounds the data a header may promise, so that a corrupt header
// gives an error instead of an attempt to allocate terabytes; the memory budget
// ([limits.Memory]) usually bounds it first.
const maxIDXBytes = 1 << 34

// maxDeflateRatio is the most deflate can expand its input (258 bytes from two
// bits of a block, about 1032:1): a gzipped file of n bytes holds at most
// maxDeflateRatio·n bytes, so a header promising more is refused unread.
const maxDeflateRatio = 1032

// initialIDXAlloc is what a header may make the reader allocate before the data
// has shown up when the source's size is unknown; reading then grows it.
const initialIDXAlloc = 64 << 20

// IDX is the content of one IDX file of unsigned bytes: the format of the
// original MNIST and Fashion-MNIST files. Data holds the elements in row-major
// order, so len(Data) is the product of Dims.
type IDX struct {
	Dims []int
	Data []byte
}

// Magic returns the file's magic number: 0x0000 0x08 and the number of dimensions.
func (x *IDX) Magic() uint32 { return idxUbyte<<8 | uint32(len(x.Dims)) }

// ContentSHA256 returns the hex SHA-256 of the file's uncompressed bytes
// (header and data), the same for a raw file and any gzip of it.
func (x *IDX) ContentSHA256() string {
	h := sha256.New()
	h.Write(x.header())
	h.Write(x.Data)
	return hex.EncodeToString(h.Sum(nil))
}

func (x *IDX) header() []byte {
	b := binary.BigEndian.AppendUint32(nil, x.Magic())
	for _, d := range x.Dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return b
}

// ReadIDX reads the IDX file at path, raw or gzipped (told apart by the gzip
// magic bytes, not by the name). Errors name the file.
//
// The file must be a regular file (symbolic links are followed; a directory,
// device or named pipe is refused before it is read) of at most 16 GiB, and
// the data its header promises must fit the memory budget ([limits.Memory]) and
// what the file can hold: the raw file's size, or 1032 times a gzipped one's.
func ReadIDX(path string) (*IDX, error) {
	f, size, err := limits.Open(path, maxIDXBytes+4+4*255)
	if err != nil {
		return nil, errors.Wrap(err, "data")
	}
	defer f.Close()
	return decodeIDX(f, path, size)
}

// DecodeIDX reads an IDX file, raw or gzipped, from r. The name is used in
// errors only. It checks that the data is exactly as long as the header says:
// a truncated file or trailing bytes are errors, and so is a gzip stream whose
// checksum fails.
//
// The data the header promises must fit the memory budget ([limits.Memory]);
// until the data has arrived, at most 64 MiB are allocated ahead of it.
func DecodeIDX(r io.Reader, name string) (*IDX, error) {
	return decodeIDX(r, name, -1)
}

// decodeIDX is DecodeIDX for a source of fileSize bytes (-1: unknown), which
// bounds what the header may promise and lets the data be read into one
// allocation of its exact size.
func decodeIDX(r io.Reader, name string, fileSize int64) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	gzipped := false
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gzipped = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, streamError(err, name, "gzip header")
		}
		defer zr.Close()
		src = zr
	}
	var magic [4]byte
	if n, err := io.ReadFull(src, magic[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, errors.Errorf("data: %s: empty file", name)
		}
		return nil, streamError(err, name, "IDX header")
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, errors.Errorf("data: %s: bad magic 0x%08x: not an IDX file", name, binary.BigEndian.Uint32(magic[:]))
	}
	if magic[2] != idxUbyte {
		return nil, errors.Errorf("data: %s: IDX element type 0x%02x not supported (only unsigned bytes, 0x08)", name, magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, errors.Errorf("data: %s: IDX file with 0 dimensions", name)
	}
	dimBytes := make([]byte, 4*nd)
	if _, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, streamError(err, name, "IDX dimensions")
	}
	x := &IDX{Dims: make([]int, nd)}
	size := int64(1)
	for i := range x.Dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		if d == 0 {
			return nil, errors.Errorf("data: %s: dimension %d of %s is 0", name, i, dimString(dimBytes))
		}
		x.Dims[i] = int(d)
		if size > maxIDXBytes/int64(d) {
			return nil, errors.Errorf("data: %s: dimensions %s promise more than %d bytes", name, dimString(dimBytes), int64(maxIDXBytes))
		}
		size *= int64(d)
	}
	header := int64(4 + 4*nd)
	if fileSize >= 0 {
		// What the file can deliver: its data as is, or deflate's best ratio.
		most := fileSize - header
		if gzipped {
			most = fileSize * maxDeflateRatio
		}
		if size > most {
			how := "holds"
			if gzipped {
				how = "can expand to at most"
			}
			return nil, errors.Errorf("data: %s: truncated: dimensions %s need %d bytes of data; a file of %d bytes %s %d",
				name, dimString(dimBytes), size, fileSize, how, max(most, 0))
		}
	}
	if err := limits.CheckMemory(fmt.Sprintf("data: %s: the data set its dimensions %s promise", name, dimString(dimBytes)), size, ""); err != nil {
		return nil, err
	}
	initial := min(size, initialIDXAlloc)
	if fileSize >= 0 {
		initial = size // bounded above by what the file can hold
	}
	data, n, err := readGrowing(src, size, initial)
	if err == io.EOF {
		return nil, errors.Errorf("data: %s: truncated: dimensions %s need %d bytes of data, found %d",
			name, dimString(dimBytes), size, n)
	}
	if err != nil {
		return nil, streamError(err, name, fmt.Sprintf("data (%d of %d bytes read)", n, size))
	}
	// Reading past the end checks the gzip trailer (CRC and length) too.
	var extra [1]byte
	switch m, err := io.ReadFull(src, extra[:]); {
	case m > 0:
		return nil, errors.Errorf("data: %s: trailing bytes after the %d bytes of data that dimensions %s give",
			name, size, dimString(dimBytes))
	case err != io.EOF:
		return nil, streamError(err, name, "gzip trailer")
	}
	x.Data = data
	return x, nil
}

// readGrowing reads exactly size bytes from r into a buffer that starts at
// initial bytes and grows by doubling (never past size), so that a header's
// promise costs memory only as the data arrives. It returns io.EOF, with the
// count read, if r ends first.
func readGrowing(r io.Reader, size, initial int64) ([]byte, int64, error) {
	buf := make([]byte, initial)
	var n int64
	for {
		m, err := io.ReadFull(r, buf[n:])
		n += int64(m)
		if err == io.ErrUnexpectedEOF || (err == io.EOF && n < size) {
			return nil, n, io.EOF
		}
		if err != nil {
			return nil, n, err
		}
		if n == size {
			return buf, n, nil
		}
		grown := make([]byte, min(size, 2*int64(len(buf))))
		copy(grown, buf)
		buf = grown
	}
}

// streamError turns a read error into one that names the file and says what
// was being read, calling a short stream truncated and a bad one corrupt.
func streamError(err error, name, what string) error {
	var corrupt flate.CorruptInputError
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return errors.Errorf("data: %s: truncated: file ends inside the %s", name, what)
	case errors.As(err, &corrupt), err == gzip.ErrChecksum, err == gzip.ErrHeader:
		return errors.Wrapf(err, "data: %s: corrupt gzip stream in the %s", name, what)
	}
	return errors.Wrapf(err, "data: %s: reading the %s", name, what)
}

func dimString(b []byte) string {
	s := make([]string, len(b)/4)
	for i := range s {
		s[i] = fmt.Sprint(binary.BigEndian.Uint32(b[4*i:]))
	}
	return strings.Join(s, "x")
}

// EncodeIDX writes x to w as a raw IDX file of unsigned bytes; wrap w in a
// gzip.Writer for a .gz file. It returns an error if the data does not match
// the dimensions.
func EncodeIDX(w io.Writer, x *IDX) error {
	size := 1
	for _, d := range x.Dims {
		if d <= 0 || d > 1<<32-1 {
			return errors.Errorf("data: EncodeIDX: bad dimension %d in %v", d, x.Dims)
		}
		size *= d
	}
	if len(x.Dims) == 0 || len(x.Dims) > 255 {
		return errors.Errorf("data: EncodeIDX: %d dimensions", len(x.Dims))
	}
	if size != len(x.Data) {
		return errors.Errorf("data: EncodeIDX: dimensions %v need %d bytes, have %d", x.Dims, size, len(x.Data))
	}
	if _, err := w.Write(x.header()); err != nil {
		return errors.Wrap(err, "data: EncodeIDX")
	}
	_, err := w.Write(x.Data)
	return errors.Wrap(err, "data: EncodeIDX")
}

// ReadIDXDataset reads a pair of IDX files, images (magic 0x00000803, N×H×W)
// and labels (magic 0x00000801, N), into a one-channel [Dataset]. It checks
// that both counts agree and that every label indexes classes; nil classes
// means "0", "1", ... up to the largest label.
func ReadIDXDataset(imagesPath, labelsPath string, classes []string) (*Dataset, error) {
	images, err := ReadIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	return idxDataset(images, imagesPath, labels, labelsPath, classes)
}

func idxDataset(images *IDX, imagesName string, labels *IDX, labelsName string, classes []string) (*Dataset, error) {
	if err := checkMagic(images, imagesName, MagicImages); err != nil {
		return nil, err
	}
	if err := checkMagic(labels, labelsName, MagicLabels); err != nil {
		return nil, err
	}
	n, h, w := images.Dims[0], images.Dims[1], images.Dims[2]
	if labels.Dims[0] != n {
		return nil, errors.Errorf("data: %s: %d labels but %d images in %s", labelsName, labels.Dims[0], n, imagesName)
	}
	ys := make([]int, n)
	maxLabel := 0
	for i, b := range labels.Data {
		ys[i] = int(b)
		maxLabel = max(maxLabel, int(b))
	}
	if classes == nil {
		classes = make([]string, maxLabel+1)
		for i := range classes {
			classes[i] = fmt.Sprint(i)
		}
	}
	for i, y := range ys {
		if y >= len(classes) {
			return nil, errors.Errorf("data: %s: label %d of image %d is out of range for %d classes", labelsName, y, i, len(classes))
		}
	}
	return newDataset(images.Data, ys, h, w, 1, classes), nil
}

func checkMagic(x *IDX, name string, want uint32) error {
	if got := x.Magic(); got != want {
		kind := map[uint32]string{MagicImages: "images", MagicLabels: "labels"}
		msg := fmt.Sprintf("data: %s: magic 0x%08x (%d dimensions), want 0x%08x (IDX %s)", name, got, len(x.Dims), want, kind[want])
		if k, ok := kind[got]; ok {
			msg += "; this is an IDX " + k + " file"
		}
		return errors.New(msg)
	}
	return nil
}
