#include "apps/loadgen/trail_pool.hpp"

#include "intel/feed_loader.hpp"
#include "intel/trail_parser.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace malfix::loadgen {
namespace fs = std::filesystem;
namespace {

/// Tries before a benign draw gives up; only a trail set that lists most of the address space
/// (or every name) gets near it.
constexpr int kMaxRedraws = 1000;
/// Share of malicious names drawn under a random subdomain, so matching walks suffixes.
constexpr double kSubdomainShare = 0.3;

constexpr std::array<std::string_view, 24> kSyllables{
    "ka",  "lo",  "mi",  "net", "stor", "cloud", "pix", "tech", "sun", "blue", "data", "shop",
    "ver", "zen", "for", "ma",  "tri",  "nova",  "bit", "rio",  "lum", "sol",  "mer",  "tan"};
constexpr std::array<std::string_view, 7> kBenignTlds{"com", "net", "org",  "de",
                                                      "io",  "fr",  "co.uk"};
constexpr std::array<std::string_view, 6> kHostLabels{"www", "api", "cdn", "mail", "img", "static"};

std::vector<fs::path> trail_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".txt") {
            files.push_back(entry.path());
        }
    }
    // Directory order is the file system's: sorting keeps --seed repeatable across machines.
    std::sort(files.begin(), files.end());
    return files;
}

std::string_view csv_first_field(std::string_view line) {
    if (!line.empty() && line.front() == '"') {
        const std::size_t end = line.find('"', 1);
        return end == std::string_view::npos ? line.substr(1) : line.substr(1, end - 1);
    }
    return line.substr(0, line.find(','));
}

void append_label(Rng& rng, std::string& out, std::size_t min_len, std::size_t max_len) {
    constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
    const std::size_t len = rng.between(min_len, max_len);
    for (std::size_t i = 0; i < len; ++i) {
        out += kChars[rng.below(kChars.size())];
    }
}

bool is_reserved_v4(std::uint32_t a) {
    const std::uint32_t first = a >> 24;
    return first == 0 || first == 10 || first == 127 || first >= 224 ||
           (a & 0xFFC00000U) == 0x64400000U ||  // 100.64/10, carrier-grade NAT
           (a & 0xFFFF0000U) == 0xA9FE0000U ||  // 169.254/16, link local
           (a & 0xFFF00000U) == 0xAC100000U ||  // 172.16/12
           (a & 0xFFFF0000U) == 0xC0A80000U ||  // 192.168/16
           (a & 0xFFFFFF00U) == 0xC0000200U;    // 192.0.2/24, documentation
}

}  // namespace

std::string to_text(const ipfix::IpAddress& address) {
    return address.to_string();
}

std::shared_ptr<const TrailPool> TrailPool::load(const fs::path& path) {
    auto pool = std::make_shared<TrailPool>();
    std::error_code error;
    if (fs::is_directory(path, error)) {
        for (const fs::path& file : trail_files(path)) {
            pool->read_file(file, false);
        }
    } else {
        pool->read_file(path, path.extension() == ".csv");
    }
    std::sort(pool->v4_port_.begin(), pool->v4_port_.end(),
              [](const PortTrail& a, const PortTrail& b) { return a.address < b.address; });
    std::sort(pool->v6_port_.begin(), pool->v6_port_.end(),
              [](const PortTrail& a, const PortTrail& b) { return a.address < b.address; });

    TrailCounts& c = pool->counts_;
    c = {pool->v4_.size(),      pool->v6_.size(),      pool->v4_port_.size(), pool->v6_port_.size(),
         pool->v4_cidr_.size(), pool->v6_cidr_.size(), pool->domains_.size()};
    if (c.v4 + c.v6 + c.v4_port + c.v6_port + c.v4_cidr + c.v6_cidr == 0 || c.domains == 0) {
        throw std::runtime_error(path.string() +
                                 ": needs both address and domain trails to draw from");
    }

    intel::LoadOptions options;
    options.intel_paths.push_back(path);
    pool->snapshot_ = intel::load_snapshot(options).snapshot;
    return pool;
}

void TrailPool::read_file(const fs::path& file, bool csv) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error(file.string() + ": cannot be read");
    }
    std::string line;
    std::string scratch;
    while (std::getline(in, line)) {
        add_line(csv ? csv_first_field(line) : std::string_view(line), scratch);
    }
}

void TrailPool::add_line(std::string_view line, std::string& scratch) {
    const intel::ParsedTrail t = intel::parse_trail_line(line, scratch);
    if (t.line_class != intel::LineClass::kTrail) {
        return;
    }
    std::array<std::uint8_t, 16> v4_bytes{};
    if (!t.v6) {
        v4_bytes = ipfix::IpAddress::v4(t.v4).bytes;
    }
    const auto& bytes = t.v6 ? t.v6_addr : v4_bytes;
    switch (t.kind) {
        case intel::IndicatorKind::kIp:
            if (t.v6) {
                v6_.push_back(t.v6_addr);
            } else {
                v4_.push_back(t.v4);
            }
            return;
        case intel::IndicatorKind::kIpPort:
            (t.v6 ? v6_port_ : v4_port_).push_back({bytes, t.port});
            return;
        case intel::IndicatorKind::kCidr:
            (t.v6 ? v6_cidr_ : v4_cidr_).push_back({bytes, t.prefix});
            return;
        case intel::IndicatorKind::kDomain:
            if (t.text.empty() || t.text.size() > intel::kMaxDomainLength) {
                return;
            }
            domains_.emplace_back(static_cast<std::uint32_t>(domain_text_.size()),
                                  static_cast<std::uint16_t>(t.text.size()));
            domain_text_ += t.text;
            return;
    }
}

bool TrailPool::has_addresses(bool v6) const {
    return v6 ? counts_.v6 + counts_.v6_port + counts_.v6_cidr != 0
              : counts_.v4 + counts_.v4_port + counts_.v4_cidr != 0;
}

Endpoint TrailPool::draw_malicious(Rng& rng, bool v6) const {
    // A trail line the snapshot does not match as drawn (a CIDR whose address is whitelisted,
    // a line malfix reads differently) is drawn again: a malicious flow must hit.
    for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
        const Endpoint e = draw_malicious_once(rng, v6);
        if (matches(e.address, e.port)) {
            return e;
        }
    }
    throw std::runtime_error("the snapshot matches none of the address trails drawn");
}

bool TrailPool::matches(const ipfix::IpAddress& a, std::uint16_t port) const {
    if (a.is_v6()) {
        return snapshot_->find_ipv6(a.bytes) != nullptr ||
               (port != 0 && snapshot_->find_ipv6_port(a.bytes, port) != nullptr);
    }
    return snapshot_->find_ipv4(a.v4_host_order()) != nullptr ||
           (port != 0 && snapshot_->find_ipv4_port(a.v4_host_order(), port) != nullptr);
}

Endpoint TrailPool::draw_malicious_once(Rng& rng, bool v6) const {
    const std::size_t plain = v6 ? v6_.size() : v4_.size();
    const auto& ports = v6 ? v6_port_ : v4_port_;
    const auto& cidrs = v6 ? v6_cidr_ : v4_cidr_;
    // Half plain addresses, a quarter each ip:port and CIDR, so every kind of lookup is
    // exercised even though plain addresses outnumber the rest by far in Maltrail's trails.
    const double weights[3] = {plain != 0 ? 0.5 : 0.0, ports.empty() ? 0.0 : 0.25,
                               cidrs.empty() ? 0.0 : 0.25};
    double pick = rng.unit() * (weights[0] + weights[1] + weights[2]);

    Endpoint out;
    if (pick < weights[0]) {
        const std::size_t i = rng.below(plain);
        out.address = v6 ? ipfix::IpAddress::v6(v6_[i].data()) : ipfix::IpAddress::v4(v4_[i]);
        return out;
    }
    pick -= weights[0];
    if (pick < weights[1]) {
        const PortTrail& t = ports[rng.below(ports.size())];
        out.address =
            v6 ? ipfix::IpAddress::v6(t.address.data())
               : ipfix::IpAddress::v4(ipfix::IpAddress::v6(t.address.data()).v4_host_order());
        out.port = t.port;
        return out;
    }
    const Cidr& c = cidrs[rng.below(cidrs.size())];
    std::array<std::uint8_t, 16> a = c.base;
    const std::size_t bits = v6 ? 128 : 32;
    for (std::size_t bit = c.prefix; bit < bits; ++bit) {
        const auto mask = static_cast<std::uint8_t>(0x80U >> (bit % 8));
        if (rng.chance(0.5)) {
            a[bit / 8] = static_cast<std::uint8_t>(a[bit / 8] | mask);
        } else {
            a[bit / 8] = static_cast<std::uint8_t>(a[bit / 8] & ~mask);
        }
    }
    out.address = ipfix::IpAddress::v6(a.data());
    if (!v6) {
        out.address = ipfix::IpAddress::v4(out.address.v4_host_order());
    }
    return out;
}

std::string TrailPool::draw_malicious_name(Rng& rng) const {
    for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
        std::string name = draw_malicious_name_once(rng);
        if (hits_name(name)) {
            return name;
        }
    }
    throw std::runtime_error("the snapshot matches none of the domain trails drawn");
}

std::string TrailPool::draw_malicious_name_once(Rng& rng) const {
    const auto [offset, length] = domains_[rng.below(domains_.size())];
    const std::string_view trail(domain_text_.data() + offset, length);
    const bool tld = trail.find('.') == std::string_view::npos;
    std::string name;
    // A bare TLD trail ("xyz") is never looked up alone: flows carry names under it.
    if ((tld || rng.chance(kSubdomainShare)) && trail.size() + 12 <= intel::kMaxDomainLength) {
        append_label(rng, name, 3, 10);
        name += '.';
    }
    name += trail;
    return name;
}

ipfix::IpAddress TrailPool::redraw_until_clean(Rng& rng, bool v6, bool is_private) const {
    for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
        ipfix::IpAddress a;
        if (!v6) {
            std::uint32_t raw = static_cast<std::uint32_t>(rng.next());
            if (is_private) {
                raw = 0x0A000000U | (raw & 0x00FFFFFFU);
            } else if (is_reserved_v4(raw)) {
                continue;
            }
            a = ipfix::IpAddress::v4(raw);
        } else {
            std::array<std::uint8_t, 16> bytes{};
            for (std::size_t i = 0; i < 16; i += 8) {
                std::uint64_t r = rng.next();
                for (std::size_t j = 0; j < 8; ++j, r >>= 8) {
                    bytes[i + j] = static_cast<std::uint8_t>(r);
                }
            }
            // fd00::/8 unique local for the inside, 2000::/4 global unicast for the rest.
            bytes[0] = is_private ? 0xFD : static_cast<std::uint8_t>(0x20 | (bytes[0] & 0x0F));
            a = ipfix::IpAddress::v6(bytes.data());
        }
        if (!hits(a, 0)) {
            return a;
        }
    }
    throw std::runtime_error("the trails match almost every random address");
}

ipfix::IpAddress TrailPool::draw_benign_public(Rng& rng, bool v6) const {
    return redraw_until_clean(rng, v6, false);
}

ipfix::IpAddress TrailPool::draw_benign_private(Rng& rng, bool v6) const {
    return redraw_until_clean(rng, v6, true);
}

std::string TrailPool::draw_benign_name(Rng& rng) const {
    for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
        std::string name;
        if (rng.chance(0.6)) {
            name += kHostLabels[rng.below(kHostLabels.size())];
            name += '.';
        }
        const std::size_t syllables = rng.between(2, 3);
        for (std::size_t i = 0; i < syllables; ++i) {
            name += kSyllables[rng.below(kSyllables.size())];
        }
        if (rng.chance(0.3)) {
            name += static_cast<char>('0' + rng.below(10));
        }
        name += '.';
        name += kBenignTlds[rng.below(kBenignTlds.size())];
        if (!hits_name(name)) {
            return name;
        }
    }
    throw std::runtime_error("the trails match almost every benign-looking name");
}

bool TrailPool::hits(const ipfix::IpAddress& address, std::uint16_t port) const {
    const auto& ports = address.is_v6() ? v6_port_ : v4_port_;
    std::array<std::uint8_t, 16> key = address.bytes;
    // Any ip:port trail on the address disqualifies it for a benign draw, whatever the port.
    const auto listed = std::lower_bound(
        ports.begin(), ports.end(), key,
        [](const PortTrail& t, const std::array<std::uint8_t, 16>& k) { return t.address < k; });
    if (port == 0 && listed != ports.end() && listed->address == key) {
        return true;
    }
    if (address.is_v6()) {
        return snapshot_->find_ipv6(address.bytes) != nullptr ||
               (port != 0 && snapshot_->find_ipv6_port(address.bytes, port) != nullptr);
    }
    const std::uint32_t host = address.v4_host_order();
    return snapshot_->find_ipv4(host) != nullptr ||
           (port != 0 && snapshot_->find_ipv4_port(host, port) != nullptr);
}

bool TrailPool::hits_name(std::string_view name) const {
    char normal[intel::kMaxDomainLength + 2];
    const std::size_t n = intel::normalize_domain(name, normal, sizeof normal);
    return n != 0 && snapshot_->find_domain({normal, n});
}

}  // namespace malfix::loadgen
