#pragma once

#include "apps/loadgen/flow_generator.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace malfix::loadgen {

/// How DNS names travel in a record.
enum class DnsEncoding : std::uint8_t {
    kYaf,   ///< yaf's DPI layout: subTemplateMultiList > DNS entry > subTemplateList of RRs
    kFlat,  ///< MalFIX's own form: 420/1 dnsName and 420/2 dnsType in the record itself
};

struct PoolConfig {
    DnsEncoding dns = DnsEncoding::kYaf;
    /// Messages are closed before they pass this size (RFC 7011 allows 65535; UDP wants an
    /// MTU's worth).
    std::size_t max_message_size = 8192;
    std::uint32_t observation_domain = 1;
    /// The pool stops at whichever limit comes first; a stream longer than the pool cycles it.
    std::uint64_t max_flows = 1'000'000;
    std::size_t max_bytes = std::size_t{32} << 20;
};

/// What the pool holds, by the generator's intent.
struct PoolStats {
    std::uint64_t flows = 0;
    std::uint64_t benign = 0;
    std::uint64_t benign_dns = 0;
    std::uint64_t malicious_ip = 0;
    std::uint64_t malicious_dns = 0;
    std::uint64_t ipv6 = 0;
};

/// IPFIX Messages encoded ahead of time, so sending costs no encoding.
///
/// Every Message is complete (RFC 7011 §3.1) with Export Time and Sequence Number left at 0:
/// whoever sends one patches its header for the Transport Session it goes on (patch_header).
/// The Template Message defines every Template the data Messages use, nested ones included.
/// Immutable once built; several sender threads read one pool.
class MessagePool {
public:
    static constexpr std::size_t kHeaderSize = 16;

    MessagePool(FlowGenerator& generator, const PoolConfig& config);

    std::span<const std::byte> templates() const { return templates_; }
    std::size_t size() const { return messages_.size(); }
    std::span<const std::byte> message(std::size_t i) const {
        return {arena_.data() + messages_[i].offset, messages_[i].length};
    }
    std::uint32_t records(std::size_t i) const { return messages_[i].records; }
    /// Writes Message i cut after its first n records (0 < n < records(i)) into out.
    void truncate(std::size_t i, std::uint32_t n, std::vector<std::byte>& out) const;

    const PoolStats& stats() const { return stats_; }
    std::size_t bytes() const { return arena_.size(); }

private:
    struct Entry {
        std::size_t offset = 0;
        std::uint32_t length = 0;
        std::uint32_t records = 0;
        std::size_t first_record = 0;  ///< index into record_end_ and record_set_
    };

    void build_templates();
    void encode(const FlowSpec& flow);
    void encode_yaf_dns(const FlowSpec& flow);
    void add_record(std::uint16_t template_id);
    void open_message();
    void close_message();
    void count(const FlowSpec& flow);

    PoolConfig config_;
    std::vector<std::byte> templates_;
    std::vector<std::byte> arena_;
    std::vector<Entry> messages_;
    /// Per record, offsets in its Message: where it ends, and where its Set starts.
    std::vector<std::uint32_t> record_end_;
    std::vector<std::uint32_t> record_set_;
    PoolStats stats_;

    // The Message being built.
    std::vector<std::byte> current_;
    std::uint32_t current_records_ = 0;
    std::size_t set_start_ = 0;  ///< 0: no open Set
    std::uint16_t set_id_ = 0;
    std::vector<std::byte> record_;  ///< the record being encoded
    std::vector<std::byte> scratch_;
};

/// Writes Export Time and Sequence Number into a Message Header.
void patch_header(std::byte* header, std::uint32_t export_time, std::uint32_t sequence);

/// One Message of a stream as a sender sees it: a patched header and the rest, in place.
struct Chunk {
    const std::byte* header = nullptr;  ///< MessagePool::kHeaderSize bytes
    std::span<const std::byte> body;
    std::uint32_t records = 0;

    std::size_t size() const { return MessagePool::kHeaderSize + body.size(); }
};

/// Walks a pool as one Transport Session: the Template Message first, then the data Messages
/// in a cycle starting at first_message, with Sequence Numbers counting the records sent
/// (RFC 7011 §3.1) and the last Message cut so exactly quota records go out.
class StreamCursor {
public:
    /// Chunks handed out stay valid for this many further next() calls.
    static constexpr std::size_t kMaxBatch = 64;
    static constexpr std::uint64_t kUnbounded = UINT64_MAX;

    StreamCursor(const MessagePool& pool, std::uint64_t quota, std::size_t first_message);

    /// Fills out with the next Message; false when quota records have gone out (never with
    /// kUnbounded).
    bool next(Chunk& out, std::uint32_t export_time);
    /// The next Message will be the Template Message again (UDP refresh, RFC 7011 §8.4).
    void resend_templates() { templates_due_ = true; }

    std::uint64_t flows() const { return flows_; }

private:
    const MessagePool& pool_;
    std::uint64_t quota_;
    std::size_t index_;
    std::uint64_t flows_ = 0;
    std::uint32_t sequence_ = 0;
    bool templates_due_ = true;
    std::size_t slot_ = 0;
    std::array<std::array<std::byte, MessagePool::kHeaderSize>, kMaxBatch> headers_{};
    std::vector<std::byte> cut_;
};

}  // namespace malfix::loadgen
