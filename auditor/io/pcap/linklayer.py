"""Link layers that are rarer in captures: where the network packet starts in a frame.

Ethernet, Linux cooked captures (SLL, SLL2), raw IP and BSD loopback are decoded inline in
:mod:`auditor.io.pcap`'s packet loop; this module handles the others it reads, by their LINKTYPE
number (https://www.tcpdump.org/linktypes.html): PPP (9), PPP in HDLC framing (50), PPPoE (51),
Cisco HDLC (104), PPP with a direction byte (204), IEEE 802.11 data frames (105), and 802.11
with a radiotap header (127). Encrypted 802.11 frames carry no readable packet and are skipped.
"""

from __future__ import annotations

LINKTYPE_PPP = 9
LINKTYPE_PPP_HDLC = 50
LINKTYPE_PPP_ETHER = 51
LINKTYPE_C_HDLC = 104
LINKTYPE_IEEE802_11 = 105
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_PPP_WITH_DIR = 204

SUPPORTED = frozenset(
    {
        LINKTYPE_PPP,
        LINKTYPE_PPP_HDLC,
        LINKTYPE_PPP_ETHER,
        LINKTYPE_C_HDLC,
        LINKTYPE_IEEE802_11,
        LINKTYPE_IEEE802_11_RADIOTAP,
        LINKTYPE_PPP_WITH_DIR,
    }
)

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
_PPP_PROTOCOLS = {0x0021: ETHERTYPE_IPV4, 0x0057: ETHERTYPE_IPV6}
_SNAP = b"\xaa\xaa\x03\x00\x00\x00"


def _ppp(data: bytes, off: int) -> tuple[int, int]:
    """A PPP frame at ``off``: optional address and control (0xff 0x03), then the protocol."""
    if data[off] == 0xFF and data[off + 1] == 0x03:
        off += 2
    if data[off] & 0x01:  # protocol field compression: a one-byte protocol
        proto = data[off]
        off += 1
    else:
        proto = (data[off] << 8) | data[off + 1]
        off += 2
    return _PPP_PROTOCOLS.get(proto, 0), off


def _ieee802_11(data: bytes, off: int) -> tuple[int, int]:
    """An 802.11 frame at ``off``: the EtherType after the MAC header and LLC/SNAP of a data frame."""
    fc0, flags = data[off], data[off + 1]
    if (fc0 >> 2) & 0x03 != 2:  # not a data frame
        return 0, off
    subtype = fc0 >> 4
    if subtype & 0x04 or flags & 0x40:  # no payload (null data), or protected (encrypted)
        return 0, off
    hlen = 24
    if flags & 0x03 == 0x03:  # to and from the distribution system: a fourth address
        hlen += 6
    if subtype & 0x08:  # QoS data
        hlen += 2
        if flags & 0x80:  # +HTC
            hlen += 4
    p = off + hlen
    if data[p : p + 6] != _SNAP:
        return 0, off
    return (data[p + 6] << 8) | data[p + 7], p + 8


def network_offset(link: int, data: bytes) -> tuple[int, int] | None:
    """(EtherType, offset of the network header) of a frame; None if the link type is not read.

    EtherType 0 means the frame holds no IP packet (another protocol, a management frame).
    Raises ``IndexError`` when the frame is too short.
    """
    if link in (LINKTYPE_PPP, LINKTYPE_PPP_HDLC):
        return _ppp(data, 0)
    if link == LINKTYPE_PPP_WITH_DIR:
        return _ppp(data, 1)
    if link == LINKTYPE_PPP_ETHER:  # PPPoE session header, then the PPP protocol
        return _PPP_PROTOCOLS.get((data[6] << 8) | data[7], 0), 8
    if link == LINKTYPE_C_HDLC:
        return (data[2] << 8) | data[3], 4
    if link == LINKTYPE_IEEE802_11:
        return _ieee802_11(data, 0)
    if link == LINKTYPE_IEEE802_11_RADIOTAP:
        return _ieee802_11(data, data[2] | (data[3] << 8))
    return None
