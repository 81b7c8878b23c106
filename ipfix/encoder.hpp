#pragma once

#include "ipfix/flow_view.hpp"
#include "ipfix/session.hpp"
#include "ipfix/template.hpp"

#include <climits>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace malfix::ipfix {

/// Private Enterprise Number of the MalFIX Information Elements (REFERENCE §1).
inline constexpr std::uint32_t kMalfixPen = 420;

/// Element numbers of the MalFIX wire contract, all in PEN kMalfixPen.
enum class MalfixElement : std::uint16_t {
    kDnsName = 1,
    kDnsType = 2,
    kType = 3,
    kTrail = 4,
    kInfo = 5,
    kReference = 6,
};

/// The four threat elements of one hit (420/3..6), as text. The views must stay valid until
/// the record has been handed to Encoder::add(); the encoder copies the bytes.
struct ThreatFields {
    std::string_view type;
    std::string_view trail;
    std::string_view info;
    std::string_view reference;
};

/// Receives every finished Message. flows counts the Data Records in it that came from
/// Encoder::add() (RFC 5610 type records are not flows). The bytes are valid only during the
/// call.
class MessageWriter {
public:
    virtual ~MessageWriter() = default;
    virtual void on_message(std::span<const std::byte> message, std::uint32_t flows) = 0;
};

struct EncoderOptions {
    /// Decides template rules: TCP withdraws before redefining an ID (RFC 7011 §8.1), UDP
    /// resends templates periodically (§8.4), a file is a stream like TCP (RFC 5655).
    Transport transport = Transport::kFile;
    /// Messages are closed before they exceed this size; a Message holding a single Data
    /// Record may still grow up to 65535 bytes.
    std::size_t max_message_size = 65535;
    /// UDP only: templates are resent before their next use once this many seconds passed
    /// since they were last sent (0 disables). Checked by tick().
    std::int64_t template_refresh_s = 60;
    /// UDP only: also resend after this many Messages of one Observation Domain (0 disables).
    std::uint32_t template_refresh_messages = 0;
    /// Hits encoded per flow; more are left out of the record (at most kMaxHitsLimit).
    std::size_t max_hits = 16;
    /// Export RFC 5610 Information Element Type records describing 420/1..6.
    bool export_type_info = true;
};

/// Why Encoder::add() did not take a record.
enum class EncodeStatus : std::uint8_t {
    kOk,
    kNoTemplate,  ///< the FlowView has no Template
    kTooLarge,    ///< record plus threat elements do not fit a 65535-byte Message
};

/// Counters of one Encoder; plain integers because an Encoder belongs to one thread.
struct EncoderCounters {
    std::uint64_t messages = 0;
    std::uint64_t flows = 0;
    std::uint64_t templates_sent = 0;  ///< Template and Options Template records
    std::uint64_t withdrawals = 0;
    std::uint64_t too_large = 0;
};

/// Turns flows and their hits back into IPFIX Messages (RFC 7011) for one Transport Session.
///
/// Each output record is the original Data Record, byte for byte, followed by the threat
/// elements. Its Template is derived from the input Template: the input's Field Specifiers,
/// then 420/1 dnsName when a name is given and the input has no 420/1, then one group of
/// 420/3..6 per hit (repeating Information Elements in a Template is legal, RFC 7011 §8 and
/// RFC 7013). Derived Template IDs are chosen per Observation Domain, from 65535 down, among IDs
/// not used by the Templates exported verbatim (the ones nested records refer to, which must
/// keep their original IDs, RFC 6313).
///
/// Not thread-safe: one Encoder per output stream, used from the serializer thread. Nothing is
/// allocated per record once every Template in use has been seen.
class Encoder {
public:
    static constexpr std::size_t kMaxHitsLimit = 64;
    static constexpr std::size_t kMaxMessageSize = 65535;
    static constexpr std::size_t kHeaderSize = 16;

    Encoder(EncoderOptions options, MessageWriter& writer);
    ~Encoder();
    Encoder(const Encoder&) = delete;
    Encoder& operator=(const Encoder&) = delete;

    /// Sets the wall clock (Unix seconds) written as Export Time into the next Messages.
    void set_time(std::int64_t now_s) { now_s_ = now_s; }

    /// Appends one flow. dns_name, when not empty, is written as 420/1 if the input Template
    /// has no 420/1 of its own. Hits beyond max_hits are ignored. May emit finished Messages.
    EncodeStatus add(const FlowView& flow, std::string_view dns_name,
                     std::span<const ThreatFields> hits);
    /// Closes and emits the current Message, if it holds anything.
    void flush();
    /// On UDP, marks every Template for resending once template_refresh_s passed since the last
    /// refresh. now_s may be any monotonic seconds clock; the first call only starts the timer.
    void tick(std::int64_t now_s);
    /// Marks every Template of every Observation Domain for resending before its next use.
    void refresh_templates();
    /// Starts a new Transport Session (a reconnect): the open Message is discarded and every
    /// Template, ID and Sequence Number is forgotten. Returns the flows discarded.
    std::uint32_t reset();

    /// Flows in the open Message, not yet handed to the MessageWriter.
    std::uint32_t pending_flows() const { return message_flows_; }
    const EncoderCounters& counters() const { return counters_; }
    const EncoderOptions& options() const { return options_; }

private:
    struct DomainState;
    struct WireTemplate;
    struct DerivedKey {
        std::uint64_t uid = 0;
        std::uint16_t hits = 0;
        bool dns = false;
        friend bool operator==(const DerivedKey&, const DerivedKey&) = default;
    };
    struct DerivedKeyHash {
        std::size_t operator()(const DerivedKey& k) const {
            return std::hash<std::uint64_t>{}(k.uid * 0x9E3779B97F4A7C15ULL ^ (k.hits << 1) ^
                                              (k.dns ? 1U : 0U));
        }
    };

    DomainState& domain(std::uint32_t odid);
    void open_message(DomainState& state);
    void close_message();
    bool fits(std::size_t bytes) const;
    void make_room(DomainState& state, std::size_t bytes);
    void begin_set(DomainState& state, std::uint16_t set_id, std::size_t first_record);
    void end_set();
    void append(std::span<const std::byte> bytes);

    bool has_dns_field(const Template& tmpl);
    void send_template(DomainState& state, std::uint16_t id);
    void withdraw(DomainState& state, std::uint16_t id);
    void evict(DomainState& state, std::uint16_t id);
    std::uint16_t allocate_id(DomainState& state);
    void ensure_type_info(DomainState& state);
    void ensure_nested(DomainState& state, const Template& nested);
    std::uint16_t ensure_derived(DomainState& state, const Template& input, bool dns,
                                 std::size_t hits);
    void write_type_info_records(DomainState& state);

    EncoderOptions options_;
    MessageWriter& writer_;
    static constexpr std::int64_t kNever = INT64_MIN;

    std::int64_t now_s_ = 0;
    std::int64_t tick_s_ = 0;
    std::int64_t last_refresh_s_ = kNever;

    std::vector<std::byte> message_;
    std::size_t used_ = 0;  ///< bytes of message_ in use; 0 when no Message is open
    std::uint32_t message_odid_ = 0;
    std::uint32_t message_records_ = 0;  ///< every Data Record, for the Sequence Number
    std::uint32_t message_flows_ = 0;
    std::size_t set_start_ = 0;  ///< offset of the open Set's header, 0 when none
    std::uint16_t set_id_ = 0;

    std::unordered_map<std::uint32_t, std::unique_ptr<DomainState>> domains_;
    DomainState* last_domain_ = nullptr;
    std::uint64_t last_uid_ = 0;
    bool last_has_dns_ = false;
    std::vector<std::byte> scratch_;
    EncoderCounters counters_;
};

/// Writes a Template Record (RFC 7011 §3.4.1) or, with a scope count, an Options Template
/// Record (§3.4.2) for fields under id, appending to out. Enterprise-specific Field Specifiers
/// get the enterprise bit and their PEN.
void encode_template_record(std::uint16_t id, std::uint16_t scope_field_count,
                            std::span<const FieldSpec> fields, std::vector<std::byte>& out);

}  // namespace malfix::ipfix
