#include "ipfix/ip_address.hpp"

#include <arpa/inet.h>

namespace malfix::ipfix {

std::size_t IpAddress::format(char* out) const {
    // inet_ntop follows RFC 5952 (lower case, longest zero run compressed).
    const int af = is_v4() ? AF_INET : AF_INET6;
    if (empty() || inet_ntop(af, bytes.data(), out, kMaxTextLength + 1) == nullptr) {
        out[0] = '\0';
        return 0;
    }
    return std::strlen(out);
}

std::string IpAddress::to_string() const {
    char text[kMaxTextLength + 1];
    return std::string(text, format(text));
}

}  // namespace malfix::ipfix
