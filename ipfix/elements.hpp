#pragma once

#include <cstdint>

/// Information Element numbers and Private Enterprise Numbers the decoder and encoder use.
/// IANA numbers are from the IANA "IPFIX Information Elements" registry (RFC 7012).
namespace malfix::ipfix {

/// Private Enterprise Numbers (the enterprise part of a Field Specifier, RFC 7011 §3.2).
namespace pen {
inline constexpr std::uint32_t kIana = 0;
/// MalFIX's own elements (dnsName, dnsType, malfix_type, ...), see REFERENCE.md §1.
inline constexpr std::uint32_t kMalfix = 420;
/// CERT NetSA (yaf, super_mediator); reverse elements are the forward id + cert_ie::kReverseOffset.
inline constexpr std::uint32_t kCert = 6871;
/// RFC 5103 reverse Information Elements.
inline constexpr std::uint32_t kReverse = 29305;
}  // namespace pen

/// IANA Information Elements (enterprise 0).
namespace ie {
inline constexpr std::uint16_t kOctetDeltaCount = 1;
inline constexpr std::uint16_t kPacketDeltaCount = 2;
inline constexpr std::uint16_t kProtocolIdentifier = 4;
inline constexpr std::uint16_t kSourceTransportPort = 7;
inline constexpr std::uint16_t kSourceIPv4Address = 8;
inline constexpr std::uint16_t kDestinationTransportPort = 11;
inline constexpr std::uint16_t kDestinationIPv4Address = 12;
inline constexpr std::uint16_t kFlowEndSysUpTime = 21;
inline constexpr std::uint16_t kFlowStartSysUpTime = 22;
inline constexpr std::uint16_t kSourceIPv6Address = 27;
inline constexpr std::uint16_t kDestinationIPv6Address = 28;
inline constexpr std::uint16_t kOctetTotalCount = 85;
inline constexpr std::uint16_t kPacketTotalCount = 86;
inline constexpr std::uint16_t kFlowStartSeconds = 150;
inline constexpr std::uint16_t kFlowEndSeconds = 151;
inline constexpr std::uint16_t kFlowStartMilliseconds = 152;
inline constexpr std::uint16_t kFlowEndMilliseconds = 153;
inline constexpr std::uint16_t kFlowStartMicroseconds = 154;
inline constexpr std::uint16_t kFlowEndMicroseconds = 155;
inline constexpr std::uint16_t kFlowStartNanoseconds = 156;
inline constexpr std::uint16_t kFlowEndNanoseconds = 157;
inline constexpr std::uint16_t kFlowStartDeltaMicroseconds = 158;
inline constexpr std::uint16_t kFlowEndDeltaMicroseconds = 159;
inline constexpr std::uint16_t kSystemInitTimeMilliseconds = 160;
inline constexpr std::uint16_t kUdpSourcePort = 180;
inline constexpr std::uint16_t kUdpDestinationPort = 181;
inline constexpr std::uint16_t kTcpSourcePort = 182;
inline constexpr std::uint16_t kTcpDestinationPort = 183;
inline constexpr std::uint16_t kBasicList = 291;             ///< RFC 6313 §4.5.1
inline constexpr std::uint16_t kSubTemplateList = 292;       ///< RFC 6313 §4.5.2
inline constexpr std::uint16_t kSubTemplateMultiList = 293;  ///< RFC 6313 §4.5.3
}  // namespace ie

/// CERT NetSA elements (enterprise pen::kCert) carried by yaf's DNS deep packet inspection.
namespace cert_ie {
inline constexpr std::uint16_t kDnsQRType = 175;
inline constexpr std::uint16_t kDnsRRSection = 178;
inline constexpr std::uint16_t kDnsQName = 179;
/// CERT reverse elements are the forward id plus this offset, in the same enterprise.
inline constexpr std::uint16_t kReverseOffset = 16384;
}  // namespace cert_ie

/// MalFIX elements (enterprise pen::kMalfix), REFERENCE.md §1.
namespace malfix_ie {
inline constexpr std::uint16_t kDnsName = 1;
inline constexpr std::uint16_t kDnsType = 2;
inline constexpr std::uint16_t kMalfixType = 3;
inline constexpr std::uint16_t kMalfixTrail = 4;
inline constexpr std::uint16_t kMalfixInfo = 5;
inline constexpr std::uint16_t kMalfixReference = 6;
/// dnsType value meaning an A query; every other value is treated as AAAA.
inline constexpr std::uint8_t kDnsTypeA = 4;
}  // namespace malfix_ie

/// DNS type numbers (RFC 1035, RFC 3596) and section numbers as yaf exports them.
namespace dns {
inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint8_t kSectionQuestion = 0;
inline constexpr std::uint8_t kSectionAnswer = 1;
}  // namespace dns

}  // namespace malfix::ipfix
