#pragma once
// A throw-away PKI made with the openssl command line in a test's temporary directory: a CA, a server certificate
// for 127.0.0.1/localhost, a client certificate from the same CA, and a client certificate from an unrelated CA
// (the "wrong CA" case of mutual TLS). Header-only; shared by the server tests and the mpicd integration tests.

#include <cstdlib>
#include <fstream>
#include <string>

namespace mpic::test {

/// Paths of the generated files (PEM). Invariant after make(): every file exists.
struct openssl_pki {
    std::string dir;
    std::string ca_cert, ca_key;
    std::string server_cert, server_key;
    std::string client_cert, client_key;     ///< subject CN=<client_cn>, signed by ca
    std::string other_ca_cert, other_ca_key; ///< an unrelated CA
    std::string stranger_cert, stranger_key; ///< CN=stranger, signed by other_ca
    std::string client_cn;

    /// Runs openssl; returns false (and leaves what it made) on any failure.
    bool make(const std::string& directory, const std::string& client_common_name = "coordinator") {
        dir = directory;
        client_cn = client_common_name;
        ca_cert = dir + "/ca.pem";
        ca_key = dir + "/ca.key";
        server_cert = dir + "/server.pem";
        server_key = dir + "/server.key";
        client_cert = dir + "/client.pem";
        client_key = dir + "/client.key";
        other_ca_cert = dir + "/other-ca.pem";
        other_ca_key = dir + "/other-ca.key";
        stranger_cert = dir + "/stranger.pem";
        stranger_key = dir + "/stranger.key";
        {
            std::ofstream(dir + "/server.ext") << "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                                                  "extendedKeyUsage=serverAuth\n"
                                                  "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
            std::ofstream(dir + "/client.ext") << "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                                                  "extendedKeyUsage=clientAuth\n";
        }
        return self_signed_ca(ca_cert, ca_key, "mpic test CA") &&
               self_signed_ca(other_ca_cert, other_ca_key, "unrelated test CA") &&
               leaf(server_cert, server_key, "localhost", ca_cert, ca_key, "server.ext") &&
               leaf(client_cert, client_key, client_cn, ca_cert, ca_key, "client.ext") &&
               leaf(stranger_cert, stranger_key, "stranger", other_ca_cert, other_ca_key, "client.ext");
    }

private:
    bool run(const std::string& command) const {
        return std::system((command + " >>" + dir + "/openssl.log 2>&1").c_str()) == 0;
    }
    bool self_signed_ca(const std::string& cert, const std::string& key, const std::string& cn) const {
        return run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout " + key +
                   " -out " + cert + " -subj '/CN=" + cn + "' -addext basicConstraints=critical,CA:TRUE" +
                   " -addext keyUsage=critical,keyCertSign,cRLSign");
    }
    bool leaf(const std::string& cert, const std::string& key, const std::string& cn, const std::string& issuer,
              const std::string& issuer_key, const std::string& ext) const {
        const std::string csr = cert + ".csr";
        return run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key + " -out " + csr +
                   " -subj '/O=mpic test/CN=" + cn + "'") &&
               run("openssl x509 -req -in " + csr + " -CA " + issuer + " -CAkey " + issuer_key +
                   " -CAcreateserial -days 2 -out " + cert + " -extfile " + dir + "/" + ext);
    }
};

} // namespace mpic::test
