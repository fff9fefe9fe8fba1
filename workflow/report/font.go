package report

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultFontPaths are searched in order when Options.FontPath is empty.
// Each is a TrueType-outline font with Chinese glyphs from a Debian package;
// both were checked to load in fpdf and render 张伟 and 支付网关.
var DefaultFontPaths = []string{
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",            // fonts-wqy-microhei
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", // fonts-droid-fallback
}

// fontPackageHint is the advice given when no usable font is found.
const fontPackageHint = "install the Debian package fonts-wqy-microhei (apt-get install -y fonts-wqy-microhei) or set Options.FontPath to a TrueType .ttf/.ttc with Chinese glyphs"

// sfnt version tags.
const (
	sfntTrueType    = 0x00010000
	sfntAppleTrue   = 0x74727565 // "true"
	sfntOpenTypeCFF = 0x4F54544F // "OTTO"
	sfntCollection  = 0x74746366 // "ttcf"
)

// loadPDFFont returns the bytes of a single TrueType font for fpdf, from
// path or, when path is empty, from the first of DefaultFontPaths present.
func loadPDFFont(path string) ([]byte, error) {
	if path == "" {
		for _, candidate := range DefaultFontPaths {
			if _, statErr := os.Stat(candidate); statErr == nil {
				path = candidate
				break
			}
		}
		if path == "" {
			return nil, fmt.Errorf("report: pdf: no font with Chinese glyphs found in %s: %s",
				strings.Join(DefaultFontPaths, ", "), fontPackageHint)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: pdf: reading font: %w; %s", err, fontPackageHint)
	}
	data, err := singleTrueTypeFont(raw)
	if err != nil {
		return nil, fmt.Errorf("report: pdf: font %s: %w; %s", path, err, fontPackageHint)
	}
	return data, nil
}

// singleTrueTypeFont returns font data fpdf can parse. fpdf reads only a
// lone TrueType font, yet Debian ships most Chinese fonts as .ttc
// collections, so the first face of a collection is copied out into a
// standalone font. CFF-outline fonts (Noto CJK) are refused: fpdf cannot
// embed them.
func singleTrueTypeFont(raw []byte) ([]byte, error) {
	if len(raw) < 12 {
		return nil, errors.New("file too short for a font")
	}
	switch binary.BigEndian.Uint32(raw) {
	case sfntTrueType, sfntAppleTrue:
		return raw, nil
	case sfntOpenTypeCFF:
		return nil, errors.New("CFF-outline OpenType fonts are not supported by the PDF library")
	case sfntCollection:
		return firstFaceOfCollection(raw)
	}
	return nil, errors.New("not a TrueType font")
}

// firstFaceOfCollection rebuilds the first face of a TrueType collection as
// a standalone font: the face's table directory with its tables copied after
// it, each 4-byte aligned as the format requires.
func firstFaceOfCollection(raw []byte) ([]byte, error) {
	errCorrupt := errors.New("corrupt font collection")
	if binary.BigEndian.Uint32(raw[8:]) == 0 { // number of faces
		return nil, errCorrupt
	}
	if len(raw) < 16 {
		return nil, errCorrupt
	}
	face := int(binary.BigEndian.Uint32(raw[12:]))
	if face < 0 || face+12 > len(raw) {
		return nil, errCorrupt
	}
	version := binary.BigEndian.Uint32(raw[face:])
	if version == sfntOpenTypeCFF {
		return nil, errors.New("the collection holds CFF-outline OpenType fonts, which the PDF library does not support")
	}
	if version != sfntTrueType && version != sfntAppleTrue {
		return nil, errCorrupt
	}
	numTables := int(binary.BigEndian.Uint16(raw[face+4:]))
	dirEnd := face + 12 + 16*numTables
	if numTables == 0 || dirEnd > len(raw) {
		return nil, errCorrupt
	}

	headerLen := 12 + 16*numTables
	size := headerLen
	for i := 0; i < numTables; i++ {
		record := raw[face+12+16*i:]
		offset := int(binary.BigEndian.Uint32(record[8:]))
		length := int(binary.BigEndian.Uint32(record[12:]))
		if offset < 0 || length < 0 || offset+length > len(raw) {
			return nil, errCorrupt
		}
		size += (length + 3) &^ 3
	}

	out := make([]byte, headerLen, size)
	copy(out, raw[face:face+12]) // version, table count and search hints are unchanged
	for i := 0; i < numTables; i++ {
		record := raw[face+12+16*i:]
		offset := int(binary.BigEndian.Uint32(record[8:]))
		length := int(binary.BigEndian.Uint32(record[12:]))
		newRecord := out[12+16*i:]
		copy(newRecord[:8], record[:8]) // tag and checksum
		binary.BigEndian.PutUint32(newRecord[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(newRecord[12:], uint32(length))
		out = append(out, raw[offset:offset+length]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}
