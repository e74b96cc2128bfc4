#include "tests/integration/fleet/test_certs.h"

#include <fstream>

#include "tests/fixtures/process.h"

namespace netd::testing {

namespace {

Status write_new_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error(EIO, "writing " + path);
  return ok_status();
}

Status openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_in(nullptr, argv);
  if (!r.ok()) return make_error(EIO, "openssl " + args[0] + ": " + r.describe());
  return ok_status();
}

// A P-256 key and a self-signed CA certificate valid for a day.
Status make_ca(const std::string& dir, const std::string& name) {
  return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                  dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem", "-days", "1", "-subj", "/CN=" + name,
                  "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"});
}

// A key, and a certificate for it signed by ca with the extensions in `ext`.
Status make_leaf(const std::string& dir, const std::string& name, const std::string& cn, const std::string& ext) {
  const std::string base = dir + "/" + name;
  NETD_TRY(write_new_file(base + ".ext", ext));
  NETD_TRY(openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    base + ".key", "-out", base + ".csr", "-subj", "/CN=" + cn}));
  return openssl({"x509", "-req", "-in", base + ".csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
                  "-set_serial", std::to_string(name.size() * 7919), "-days", "1", "-out", base + ".pem", "-extfile",
                  base + ".ext"});
}

}  // namespace

Result<TestCerts> make_test_certs(const std::string& dir) {
  NETD_TRY(make_ca(dir, "ca"));
  NETD_TRY(make_ca(dir, "other-ca"));
  NETD_TRY(make_leaf(dir, "server", "127.0.0.1",
                     "subjectAltName=IP:127.0.0.1\nkeyUsage=critical,digitalSignature\n"
                     "extendedKeyUsage=serverAuth,clientAuth\n"));
  NETD_TRY(make_leaf(dir, "client", "netd-node", "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"));
  return TestCerts{dir};
}

}  // namespace netd::testing
