// Name rules kept deliberately narrow: a lab name that BIND would reject must be refused here, with the key
// that holds it, rather than surface later as a named start-up failure in a log file.

#include "tools/mpic-lab/scenario_names.hh"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace mpic::lab {

std::string check_domain_name(const std::string& input) {
    std::string name = input;
    if (!name.empty() && name.back() == '.') {
        name.pop_back();
    }
    if (name.empty()) {
        return "a domain name may not be empty or the root";
    }
    if (name.size() > 253) {
        return "a domain name has at most 253 octets (RFC 1035 §2.3.4)";
    }
    std::size_t start = 0;
    bool first = true;
    while (start <= name.size()) {
        std::size_t dot = name.find('.', start);
        std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (label.empty()) {
            return "'" + input + "' has an empty label";
        }
        if (label.size() > 63) {
            return "'" + input + "' has a label longer than 63 octets (RFC 1035 §2.3.4)";
        }
        bool wildcard = first && label == "*";
        if (!wildcard && !std::all_of(label.begin(), label.end(),
                                      [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; })) {
            return "'" + input + "' has a label with a character other than a letter, digit, '-' or '_'";
        }
        first = false;
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    return "";
}

std::string normalise_name(const std::string& name) {
    std::string out = name;
    if (!out.empty() && out.back() == '.') {
        out.pop_back();
    }
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_at_or_below(const std::string& name, const std::string& apex) {
    if (name == apex) {
        return true;
    }
    return name.size() > apex.size() && name.compare(name.size() - apex.size(), apex.size(), apex) == 0 &&
           name[name.size() - apex.size() - 1] == '.';
}

std::string resolve_owner(const std::string& name, const std::string& origin, std::string& error) {
    error.clear();
    if (origin.empty()) {
        error = check_domain_name(name);
        return error.empty() ? normalise_name(name) : "";
    }
    if (name == "@") {
        return origin;
    }
    std::string absolute = !name.empty() && name.back() == '.' ? name : name + "." + origin;
    error = check_domain_name(absolute);
    if (!error.empty()) {
        return "";
    }
    absolute = normalise_name(absolute);
    if (!is_at_or_below(absolute, origin)) {
        error = "'" + name + "' is outside the zone " + origin;
        return "";
    }
    return absolute;
}

std::string quote_character_string(const std::string& raw) {
    std::string out = "\"";
    for (unsigned char c : raw) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[5];
            buf[0] = '\\';
            buf[1] = static_cast<char>('0' + c / 100);
            buf[2] = static_cast<char>('0' + (c / 10) % 10);
            buf[3] = static_cast<char>('0' + c % 10);
            buf[4] = '\0';
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string check_raw_type(const std::string& type) {
    if (type.empty() || !std::isalpha(static_cast<unsigned char>(type[0])) ||
        !std::all_of(type.begin(), type.end(), [](unsigned char c) { return std::isalnum(c); })) {
        return "a record type is letters and digits, starting with a letter (TYPEnnn for unknown types)";
    }
    if (type == "SOA") {
        return "the lab writes the SOA record itself";
    }
    return "";
}

const zone* find_zone(const scenario& s, const std::string& owner) {
    const zone* best = nullptr;
    for (const zone& z : s.zones) {
        if (is_at_or_below(owner, z.name) && (best == nullptr || z.name.size() > best->name.size())) {
            best = &z;
        }
    }
    return best;
}

std::string check_zone_consistency(const zone& z) {
    std::map<std::string, std::multiset<std::string>> types;
    for (const record& r : z.records) {
        types[r.owner].insert(r.type);
    }
    for (const auto& [owner, ts] : types) {
        if (ts.count("CNAME") > 0 && owner == z.name) {
            return "a CNAME cannot sit at the zone apex " + owner + " (RFC 1034 §3.6.2: the apex holds SOA and NS)";
        }
        if (ts.count("CNAME") > 1) {
            return owner + " has more than one CNAME (RFC 2181 §10.1)";
        }
        if (ts.count("CNAME") == 1 && ts.size() > 1) {
            return owner + " has a CNAME beside other data (RFC 1034 §3.6.2)";
        }
        if (ts.count("DNAME") > 1) {
            return owner + " has more than one DNAME (RFC 6672 §2.4)";
        }
    }
    return "";
}

} // namespace mpic::lab
