package credcheck

import (
	"encoding/binary"
	"fmt"
	"io"
)

// mqttProbe sends an MQTT 3.1.1 CONNECT with a user name and password and reads
// the CONNACK's return code.
type mqttProbe struct{}

func (mqttProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	if _, err := c.Write(mqttConnect("portcullis-credcheck", a.entry.User, a.entry.Password)); err != nil {
		return 0, "", err
	}
	var ack [4]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		return 0, "", fmt.Errorf("no CONNACK: %w", err)
	}
	if ack[0] != 0x20 || ack[1] != 2 {
		return 0, "", fmt.Errorf("not a CONNACK: % x", ack)
	}
	why := fmt.Sprintf("CONNACK return code %d", ack[3])
	switch ack[3] {
	case 0:
		c.Write([]byte{0xe0, 0}) // DISCONNECT
		return accepted, why, nil
	case 4, 5: // bad user name or password; not authorised
		return rejected, why, nil
	case 3: // server unavailable
		return throttled, why, nil
	}
	return 0, "", fmt.Errorf("CONNACK refuses the connection itself (%s)", why)
}

// mqttConnect builds a CONNECT packet (MQTT 3.1.1, clean session).
func mqttConnect(clientID, user, password string) []byte {
	str := func(b []byte, s string) []byte {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		return append(b, s...)
	}
	var v []byte
	v = str(v, "MQTT")
	flags := byte(0x02) // clean session
	if user != "" {
		flags |= 0x80 | 0x40 // a password only goes with a user name
	}
	v = append(v, 4, flags, 0, 30)
	v = str(v, clientID)
	if user != "" {
		v = str(v, user)
		v = str(v, password)
	}
	out := []byte{0x10}
	for n := len(v); ; {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			break
		}
	}
	return append(out, v...)
}
