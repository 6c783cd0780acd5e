"""Link layers: where the network packet starts in a frame, for every link type auditor reads.

:func:`network_offset` is the one link-layer decoder of the capture reader (:mod:`auditor.io.pcap`)
and of key-log decryption (:mod:`auditor.io.tlsdecrypt`). By LINKTYPE number
(https://www.tcpdump.org/linktypes.html): Ethernet (1, with 802.1Q/802.1ad VLAN tags and PPPoE
sessions), Linux cooked captures SLL (113, ``tcpdump -i any``) and SLL2 (276), raw IP (101, 12,
14, 228, 229), BSD loopback (0 in host byte order, 108 in network byte order), PPP (9), PPP in
HDLC framing (50), PPPoE (51), Cisco HDLC (104), PPP with a direction byte (204), IEEE 802.11
data frames (105), and 802.11 with a radiotap header (127). Encrypted 802.11 frames carry no
readable packet and are skipped.
"""

from __future__ import annotations

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276
LINKTYPE_RAW = frozenset({101, 12, 14, 228, 229})  # raw IP (12 and 14 on some BSDs; 228 IPv4, 229 IPv6)
LINKTYPE_PPP = 9
LINKTYPE_PPP_HDLC = 50
LINKTYPE_PPP_ETHER = 51
LINKTYPE_C_HDLC = 104
LINKTYPE_IEEE802_11 = 105
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_PPP_WITH_DIR = 204

SUPPORTED = frozenset(
    {
        LINKTYPE_NULL,
        LINKTYPE_ETHERNET,
        LINKTYPE_LOOP,
        LINKTYPE_LINUX_SLL,
        LINKTYPE_LINUX_SLL2,
        *LINKTYPE_RAW,
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

    EtherType 0 means the frame holds no IP packet (another protocol, a management frame); the
    caller reads IPv4 (0x0800) and IPv6 (0x86DD) at the offset. Raises ``IndexError`` when the
    frame is too short.
    """
    # Called for every packet of a capture: literals, not module constants, on the common paths.
    if link == 1:  # Ethernet
        et = (data[12] << 8) | data[13]
        off = 14
        while et in (0x8100, 0x88A8, 0x9100):  # VLAN tags
            et = (data[off + 2] << 8) | data[off + 3]
            off += 4
        if et == 0x8864:  # PPPoE session
            et = _PPP_PROTOCOLS.get((data[off + 6] << 8) | data[off + 7], 0)
            off += 8
        return et, off
    if link == 113:  # Linux cooked capture (SLL)
        return (data[14] << 8) | data[15], 16
    if link == 276:  # Linux cooked capture v2 (SLL2)
        return (data[0] << 8) | data[1], 20
    if link in (101, 228, 229, 12, 14):  # raw IP (LINKTYPE_RAW)
        v = data[0] >> 4
        return (0x0800 if v == 4 else 0x86DD if v == 6 else 0), 0
    if link in (LINKTYPE_NULL, LINKTYPE_LOOP):
        # The address family, in the byte order of the capturing host (0) or big-endian (108);
        # some writers get that wrong, so a value too large is read the other way round.
        if len(data) < 4:
            raise IndexError("frame too short")
        fam = int.from_bytes(data[:4], "little" if link == LINKTYPE_NULL else "big")
        if fam > 0xFFFF:
            fam = int.from_bytes(data[:4], "big" if link == LINKTYPE_NULL else "little")
        return (ETHERTYPE_IPV4 if fam == 2 else ETHERTYPE_IPV6 if fam in (10, 23, 24, 28, 30) else 0), 4
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
