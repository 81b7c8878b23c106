#include "bench/micro_fixtures.hpp"

#include "intel/feed_loader.hpp"
#include "ipfix/byte_reader.hpp"
#include "ipfix/elements.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>

#ifndef MALFIX_BENCH_DATA
#error "MALFIX_BENCH_DATA must name the tests/data directory"
#endif

namespace malfix::bench {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "malfix-micro: %s\n", what.c_str());
    std::exit(1);
}

// --- a small IPFIX writer ----------------------------------------------------------------

void put8(std::vector<std::byte>& out, std::uint64_t v) {
    out.push_back(static_cast<std::byte>(v));
}
void put16(std::vector<std::byte>& out, std::uint64_t v) {
    put8(out, v >> 8);
    put8(out, v);
}
void put32(std::vector<std::byte>& out, std::uint64_t v) {
    put16(out, v >> 16);
    put16(out, v);
}
void put64(std::vector<std::byte>& out, std::uint64_t v) {
    put32(out, v >> 32);
    put32(out, v);
}
void patch16(std::vector<std::byte>& out, std::size_t at, std::size_t v) {
    out[at] = static_cast<std::byte>(v >> 8);
    out[at + 1] = static_cast<std::byte>(v);
}

constexpr std::uint16_t kPlainTemplate = 256;
constexpr std::uint16_t kNamedTemplate = 257;
constexpr std::size_t kRecordsPerMessage = 32;
constexpr std::uint32_t kExportTime = 1'700'000'000;

struct Field {
    std::uint16_t id;
    std::uint16_t length;
    std::uint32_t enterprise;
};

// What softflowd exports for IPv4 (with millisecond times instead of sysUpTime).
constexpr std::array<Field, 9> kPlainFields{{
    {ipfix::ie::kSourceIPv4Address, 4, 0},
    {ipfix::ie::kDestinationIPv4Address, 4, 0},
    {ipfix::ie::kSourceTransportPort, 2, 0},
    {ipfix::ie::kDestinationTransportPort, 2, 0},
    {ipfix::ie::kProtocolIdentifier, 1, 0},
    {ipfix::ie::kOctetDeltaCount, 8, 0},
    {ipfix::ie::kPacketDeltaCount, 8, 0},
    {ipfix::ie::kFlowStartMilliseconds, 8, 0},
    {ipfix::ie::kFlowEndMilliseconds, 8, 0},
}};

void put_template(std::vector<std::byte>& out, std::uint16_t id, bool named) {
    const std::size_t count = kPlainFields.size() + (named ? 2 : 0);
    put16(out, id);
    put16(out, count);
    for (const Field& f : kPlainFields) {
        put16(out, f.id);
        put16(out, f.length);
    }
    if (named) {
        put16(out, ipfix::malfix_ie::kDnsName | 0x8000U);
        put16(out, ipfix::kVariableLength);
        put32(out, ipfix::pen::kMalfix);
        put16(out, ipfix::malfix_ie::kDnsType | 0x8000U);
        put16(out, 1);
        put32(out, ipfix::pen::kMalfix);
    }
}

void put_record(std::vector<std::byte>& out, const SyntheticFlow& f, std::uint64_t i) {
    put32(out, f.src);
    put32(out, f.dst);
    put16(out, f.src_port);
    put16(out, f.dst_port);
    put8(out, f.protocol);
    put64(out, 80 + i % 1400);
    put64(out, 1 + i % 7);
    const std::uint64_t start_ms = std::uint64_t{kExportTime} * 1000 - 60'000 + i % 50'000;
    put64(out, start_ms);
    put64(out, start_ms + 15 + i % 900);
    if (!f.name.empty()) {
        put8(out, f.name.size());
        for (char c : f.name) {
            put8(out, static_cast<unsigned char>(c));
        }
        put8(out, ipfix::malfix_ie::kDnsTypeA);
    }
}

std::size_t begin_message(std::vector<std::byte>& out, std::uint32_t sequence) {
    const std::size_t at = out.size();
    put16(out, 10);
    put16(out, 0);
    put32(out, kExportTime);
    put32(out, sequence);
    put32(out, 1);
    return at;
}

void end_message(std::vector<std::byte>& out, std::size_t at) {
    patch16(out, at + 2, out.size() - at);
}

std::vector<std::span<const std::byte>> frame(const std::vector<std::byte>& bytes) {
    std::vector<std::span<const std::byte>> messages;
    std::span<const std::byte> rest(bytes);
    while (!rest.empty()) {
        const std::size_t length = ipfix::message_length(rest);
        if (length == 0 || length > rest.size()) {
            break;
        }
        messages.push_back(rest.first(length));
        rest = rest.subspan(length);
    }
    return messages;
}

// --- trails ------------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

bool parse_v4(std::string_view s, std::uint32_t& out) {
    std::uint32_t value = 0;
    int parts = 0;
    std::size_t i = 0;
    while (parts < 4) {
        std::uint32_t octet = 0;
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            octet = octet * 10 + static_cast<std::uint32_t>(s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || octet > 255) {
            return false;
        }
        value = value << 8 | octet;
        ++parts;
        if (parts < 4) {
            if (i >= s.size() || s[i] != '.') {
                return false;
            }
            ++i;
        }
    }
    out = value;
    return i == s.size();
}

bool looks_like_domain(std::string_view s) {
    if (s.size() < 4 || s.find('.') == std::string_view::npos) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    });
}

/// Address and domain trails, a few from each file so every feed is represented.
void collect_observables(const fs::path& dir, Intel& intel) {
    constexpr std::size_t kPerFile = 64;
    constexpr std::size_t kWanted = 4096;
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".txt") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
        std::ifstream in(file);
        std::string line;
        std::size_t taken = 0;
        while (taken < kPerFile && std::getline(in, line)) {
            std::string_view text = line;
            text = trim(text.substr(0, text.find('#')));
            std::uint32_t v4 = 0;
            if (parse_v4(text, v4)) {
                const intel::Indicator* ind = intel.snapshot->find_ipv4(v4);
                if (ind != nullptr && intel.bad_v4.size() < kWanted) {
                    intel.bad_v4.push_back(v4);
                    ++taken;
                }
            } else if (looks_like_domain(text)) {
                char name[256];
                const std::size_t n = intel::normalize_domain(text, name, 254);
                if (n != 0 && intel.snapshot->find_domain({name, n}) &&
                    intel.bad_domains.size() < kWanted) {
                    intel.bad_domains.emplace_back(name, n);
                    ++taken;
                }
            }
        }
    }
    if (intel.bad_v4.empty() || intel.bad_domains.empty()) {
        fail("no address or domain trails found under " + dir.string());
    }
}

std::unique_ptr<Intel> load_intel(const std::string& name, const fs::path& dir) {
    auto intel = std::make_unique<Intel>();
    intel->name = name;
    intel::LoadOptions options;
    options.intel_paths.push_back(dir);
    try {
        intel->snapshot = intel::load_snapshot(options).snapshot;
    } catch (const std::exception& e) {
        fail(std::string("cannot load trails: ") + e.what());
    }
    collect_observables(dir, *intel);
    return intel;
}

// Words for made-up benign names; none is a trail in the sample, and the full trails are
// checked per name.
constexpr std::array<std::string_view, 16> kWords{
    "cdn",   "api",    "mail", "static", "img",    "update", "login", "edge",
    "cloud", "search", "shop", "news",   "assets", "media",  "auth",  "video",
};
constexpr std::array<std::string_view, 6> kTlds{"com", "net", "org", "de", "io", "co.uk"};

std::string benign_name(std::mt19937_64& rng) {
    auto word = [&] { return std::string(kWords[rng() % kWords.size()]); };
    std::string name = word() + std::to_string(rng() % 100) + "." + word() + "-" + word();
    if (rng() % 3 == 0) {
        name = word() + "." + name;
    }
    return name + "." + std::string(kTlds[rng() % kTlds.size()]);
}

std::uint32_t public_v4(std::mt19937_64& rng) {
    for (;;) {
        const auto a = static_cast<std::uint32_t>(rng());
        const std::uint32_t top = a >> 24;
        if (top != 0 && top != 10 && top != 127 && top < 224) {
            return a;
        }
    }
}

bool misses(const intel::Snapshot& s, std::uint32_t addr, std::uint16_t port) {
    return s.find_ipv4(addr) == nullptr && s.find_ipv4_port(addr, port) == nullptr;
}

}  // namespace

void report_records(benchmark::State& state, std::uint64_t records_per_iteration) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * records_per_iteration));
    // A rate of records per CPU second, inverted: CPU seconds per record, which the console
    // shows with an SI prefix ("52.1ns") and JSON output as a plain number of seconds.
    state.counters["ns_per_record"] = benchmark::Counter(
        static_cast<double>(records_per_iteration),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

const MessageFile& data_file(std::string_view relative_path) {
    static std::map<std::string, std::unique_ptr<MessageFile>, std::less<>> cache;
    if (auto it = cache.find(relative_path); it != cache.end()) {
        return *it->second;
    }
    const fs::path path = fs::path(MALFIX_BENCH_DATA) / relative_path;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail("cannot read " + path.string());
    }
    auto file = std::make_unique<MessageFile>();
    const std::vector<char> raw((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
    file->bytes.resize(raw.size());
    std::memcpy(file->bytes.data(), raw.data(), raw.size());
    file->messages = frame(file->bytes);
    const MessageFile& ref = *file;
    cache.emplace(std::string(relative_path), std::move(file));
    return ref;
}

MessageFile data_sets_only(const MessageFile& file) {
    constexpr std::size_t kHeader = 16;
    MessageFile out;
    for (std::span<const std::byte> message : file.messages) {
        const std::size_t at = out.bytes.size();
        out.bytes.insert(out.bytes.end(), message.begin(), message.begin() + kHeader);
        std::size_t offset = kHeader;
        bool any = false;
        while (offset + 4 <= message.size()) {
            const std::uint16_t set_id = ipfix::load_be16(message.data() + offset);
            const std::uint16_t length = ipfix::load_be16(message.data() + offset + 2);
            if (length < 4 || offset + length > message.size()) {
                break;
            }
            if (set_id >= 256) {
                out.bytes.insert(out.bytes.end(), message.begin() + offset,
                                 message.begin() + offset + length);
                any = true;
            }
            offset += length;
        }
        if (any) {
            end_message(out.bytes, at);
        } else {
            out.bytes.resize(at);
        }
    }
    out.messages = frame(out.bytes);
    return out;
}

MessageFile build_messages(const std::vector<SyntheticFlow>& flows) {
    MessageFile file;
    std::vector<std::byte>& out = file.bytes;
    std::uint32_t sequence = 0;

    std::size_t at = begin_message(out, sequence);
    const std::size_t set = out.size();
    put16(out, 2);
    put16(out, 0);
    put_template(out, kPlainTemplate, false);
    put_template(out, kNamedTemplate, true);
    patch16(out, set + 2, out.size() - set);
    end_message(out, at);

    std::size_t i = 0;
    while (i < flows.size()) {
        at = begin_message(out, sequence);
        std::size_t in_message = 0;
        while (i < flows.size() && in_message < kRecordsPerMessage) {
            const bool named = !flows[i].name.empty();
            const std::size_t set_at = out.size();
            put16(out, named ? kNamedTemplate : kPlainTemplate);
            put16(out, 0);
            // One Set per run of records of one Template.
            while (i < flows.size() && in_message < kRecordsPerMessage &&
                   flows[i].name.empty() != named) {
                put_record(out, flows[i], i);
                ++i;
                ++in_message;
            }
            patch16(out, set_at + 2, out.size() - set_at);
        }
        end_message(out, at);
        sequence += static_cast<std::uint32_t>(in_message);
    }
    file.messages = frame(file.bytes);
    return file;
}

std::string_view mix_name(FlowMix mix) {
    switch (mix) {
        case FlowMix::kBenignNoName:
            return "benign_noname";
        case FlowMix::kBenignName:
            return "benign_name";
        case FlowMix::kMaliciousIp:
            return "malicious_ip";
        case FlowMix::kMaliciousDns:
            return "malicious_dns";
    }
    return "?";
}

const Intel& sample_intel() {
    static const std::unique_ptr<Intel> intel =
        load_intel("sample", fs::path(MALFIX_BENCH_DATA) / "sample" / "trails");
    return *intel;
}

const Intel* full_intel() {
    static const std::unique_ptr<Intel> intel = []() -> std::unique_ptr<Intel> {
        const char* dir = std::getenv("MALFIX_FULL_TRAILS");
        if (dir == nullptr || *dir == '\0') {
            return nullptr;
        }
        return load_intel("full", dir);
    }();
    return intel.get();
}

std::vector<SyntheticFlow> make_flows(const Intel& intel, FlowMix mix, std::size_t count) {
    std::mt19937_64 rng(0x6d616c666978ULL + static_cast<unsigned>(mix));
    const intel::Snapshot& s = *intel.snapshot;
    std::vector<SyntheticFlow> flows;
    flows.reserve(count);
    while (flows.size() < count) {
        SyntheticFlow f;
        f.src = public_v4(rng);
        f.dst = public_v4(rng);
        f.src_port = static_cast<std::uint16_t>(1024 + rng() % 60000);
        f.dst_port = std::array<std::uint16_t, 4>{53, 443, 80, 123}[rng() % 4];
        f.protocol = f.dst_port == 443 || f.dst_port == 80 ? 6 : 17;
        if (mix == FlowMix::kMaliciousIp) {
            f.dst = intel.bad_v4[flows.size() % intel.bad_v4.size()];
        }
        if (mix == FlowMix::kBenignName) {
            f.name = benign_name(rng);
        } else if (mix == FlowMix::kMaliciousDns) {
            const std::string& trail = intel.bad_domains[flows.size() % intel.bad_domains.size()];
            // Half exact trails, half a subdomain of one (the suffix walk and its rendering).
            f.name.clear();
            if (rng() % 2 == 0) {
                f.name.append("x").append(std::to_string(rng() % 1000)).append(".");
            }
            f.name.append(trail);
        }
        const bool src_clean = misses(s, f.src, f.src_port);
        const bool dst_clean = misses(s, f.dst, f.dst_port);
        if (!src_clean || (mix != FlowMix::kMaliciousIp && !dst_clean)) {
            continue;
        }
        if (mix == FlowMix::kBenignName) {
            char name[256];
            const std::size_t n = intel::normalize_domain(f.name, name, 254);
            if (s.find_domain({name, n})) {
                continue;
            }
        }
        flows.push_back(std::move(f));
    }
    return flows;
}

std::unique_ptr<DecodedFlows> decode_file(MessageFile file) {
    auto decoded = std::make_unique<DecodedFlows>();
    decoded->file = std::move(file);
    // The spans must point into the moved-to bytes.
    decoded->file.messages = frame(decoded->file.bytes);
    decoded->session = std::make_unique<ipfix::Session>(ipfix::Transport::kFile, "bench");
    decode_all(decoded->file, *decoded->session,
               [&](const ipfix::FlowView& view) { decoded->views.push_back(view); });
    return decoded;
}

void fill_batch(engine::FlowBatch& batch, const std::vector<ipfix::FlowView>& views) {
    static const auto exporter = std::make_shared<const std::string>("udp:192.0.2.1:4739");
    for (const ipfix::FlowView& view : views) {
        if (!batch.add(view, exporter)) {
            return;
        }
    }
}

}  // namespace malfix::bench
