# The alts_native addon: uv_poll readiness on a socket fd the addon owns, and
# AES-GCM through the EVP API of the OpenSSL inside Node (native/aead.cc): no libcrypto
# is linked, the symbols resolve against the node binary (on macOS through -undefined dynamic_lookup).
# POSIX only (Linux, macOS): on other platforms the build fails and the package falls back
# to the stream reader (scripts/build-native.mjs treats a failed build as non-fatal).
{
  "targets": [
    {
      "target_name": "alts_native",
      "sources": ["native/module.cc", "native/ready_handle.cc", "native/aead.cc"],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags": ["-Wall", "-Wextra", "-fstack-protector-strong"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fstack-protector-strong"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15",
        "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra", "-fstack-protector-strong"]
      }
    }
  ]
}
