package handlers

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"net/http"
)

// favicon answers /favicon.ico, which browsers ask for whatever the page
// links: the portcullis of the brand, drawn here as a 32×32 PNG inside an
// ICO container (one image, PNG-compressed, as ICO allows since Vista).
func (s *Server) favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/x-icon")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(s.icon)
}

// drawFavicon makes the favicon.ico bytes, once, when the server is built.
func drawFavicon() []byte {
	const size = 32
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	navy := color.NRGBA{0x1e, 0x3a, 0x5f, 0xff}
	steel := color.NRGBA{0xd8, 0xdf, 0xe8, 0xff}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			// A rounded square: the corners stay transparent.
			dx, dy := min(x, size-1-x), min(y, size-1-y)
			if dx+dy < 3 {
				continue
			}
			img.Set(x, y, navy)
		}
	}
	// The gate: four vertical bars ending in points, three cross bars.
	for _, bx := range []int{7, 13, 18, 24} {
		for y := 5; y < 25; y++ {
			img.Set(bx, y, steel)
			img.Set(bx+1, y, steel)
		}
		img.Set(bx, 25, steel)
		img.Set(bx+1, 25, steel)
		img.Set(bx, 26, steel)
	}
	for _, by := range []int{8, 14, 20} {
		for x := 5; x < 27; x++ {
			img.Set(x, by, steel)
		}
	}
	var pngData bytes.Buffer
	png.Encode(&pngData, img)
	var ico bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), one image.
	binary.Write(&ico, binary.LittleEndian, [3]uint16{0, 1, 1})
	// ICONDIRENTRY: width, height, colours, reserved, planes, bits per pixel,
	// size of the image data, offset of the image data (6 + 16 bytes of headers).
	ico.Write([]byte{size, size, 0, 0})
	binary.Write(&ico, binary.LittleEndian, [2]uint16{1, 32})
	binary.Write(&ico, binary.LittleEndian, [2]uint32{uint32(pngData.Len()), 22})
	ico.Write(pngData.Bytes())
	return ico.Bytes()
}
