//go:build linux

package simcluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// addLocalRoute makes every address of a /16 of IPv4 local to this machine — what `ip route add local <cidr> dev lo
// table local` does — so processes here can bind pod IPs that are not loopback addresses. EndpointSlices refuse
// loopback addresses, so only with such pod IPs do the models' Services get endpoints. It needs CAP_NET_ADMIN.
// The returned function removes the route.
func addLocalRoute(cidr *net.IPNet) (remove func() error, err error) {
	if err := localRoute(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, cidr); err != nil {
		return nil, err
	}
	return func() error { return localRoute(unix.RTM_DELROUTE, 0, cidr) }, nil
}

// localRoute sends one route request for cidr (type local, table local, on lo) over rtnetlink and reads its answer.
func localRoute(msgType uint16, flags uint16, cidr *net.IPNet) error {
	ip4 := cidr.IP.To4()
	ones, _ := cidr.Mask.Size()
	if ip4 == nil {
		return fmt.Errorf("local route: %s is not IPv4", cidr)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return fmt.Errorf("local route: %w", err)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("local route: netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("local route: netlink bind: %w", err)
	}

	attr := func(typ uint16, value []byte) []byte {
		b := make([]byte, unix.SizeofRtAttr+len(value))
		binary.NativeEndian.PutUint16(b[0:2], uint16(len(b)))
		binary.NativeEndian.PutUint16(b[2:4], typ)
		copy(b[unix.SizeofRtAttr:], value)
		return b
	}
	oif := make([]byte, 4)
	binary.NativeEndian.PutUint32(oif, uint32(lo.Index))
	rt := []byte{unix.AF_INET, byte(ones), 0, 0, unix.RT_TABLE_LOCAL, unix.RTPROT_BOOT, unix.RT_SCOPE_HOST, unix.RTN_LOCAL, 0, 0, 0, 0}
	payload := append(append(rt, attr(unix.RTA_DST, ip4)...), attr(unix.RTA_OIF, oif)...)
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(payload))
	binary.NativeEndian.PutUint32(msg[0:4], uint32(unix.SizeofNlMsghdr+len(payload)))
	binary.NativeEndian.PutUint16(msg[4:6], msgType)
	binary.NativeEndian.PutUint16(msg[6:8], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	binary.NativeEndian.PutUint32(msg[8:12], 1)
	msg = append(msg, payload...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("local route: netlink send: %w", err)
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("local route: netlink receive: %w", err)
	}
	if n < unix.SizeofNlMsghdr+4 || binary.NativeEndian.Uint16(buf[4:6]) != unix.NLMSG_ERROR {
		return errors.New("local route: unexpected netlink answer")
	}
	if code := int32(binary.NativeEndian.Uint32(buf[unix.SizeofNlMsghdr : unix.SizeofNlMsghdr+4])); code != 0 {
		return fmt.Errorf("local route %s: %w", cidr, unix.Errno(-code))
	}
	return nil
}
