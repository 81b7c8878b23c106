#include "apps/loadgen/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace malfix::loadgen {

std::uint16_t Url::port() const {
    if (address.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

std::string Url::text() const {
    char host[INET6_ADDRSTRLEN] = {};
    std::string out = udp ? "udp://" : "tcp://";
    if (address.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, host,
                  sizeof host);
        out += '[';
        out += host;
        out += ']';
    } else {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, host,
                  sizeof host);
        out += host;
    }
    out += ':';
    out += std::to_string(port());
    return out;
}

std::optional<Url> parse_url(std::string_view text) {
    Url url;
    if (text.starts_with("tcp://")) {
        text.remove_prefix(6);
    } else if (text.starts_with("udp://")) {
        url.udp = true;
        text.remove_prefix(6);
    } else {
        return std::nullopt;
    }
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string host(text.substr(0, colon));
    const std::string_view port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
        return std::nullopt;
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&url.address);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(static_cast<std::uint16_t>(port));
        if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6->sin6_addr) != 1) {
            return std::nullopt;
        }
        url.address_length = sizeof(sockaddr_in6);
        return url;
    }
    auto* a4 = reinterpret_cast<sockaddr_in*>(&url.address);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
        return std::nullopt;
    }
    url.address_length = sizeof(sockaddr_in);
    return url;
}

Url local_url(int fd, bool udp) {
    Url url;
    url.udp = udp;
    url.address_length = sizeof url.address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&url.address), &url.address_length);
    return url;
}

bool write_all(int fd, struct iovec* iov, int count) {
    while (count > 0) {
        const ssize_t n = writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        auto left = static_cast<std::size_t>(n);
        while (count > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            ++iov;
            --count;
        }
        if (count > 0) {
            iov->iov_base = static_cast<char*>(iov->iov_base) + left;
            iov->iov_len -= left;
        }
    }
    return true;
}

}  // namespace malfix::loadgen
