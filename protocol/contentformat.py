# CoAP Content-Formats registry (RFC 7252 §12.3 and later registrations):
# the numbers carried in Content-Format and Accept options.

TEXT = 0  # text/plain; charset=utf-8
COSE_ENCRYPT0 = 16  # application/cose; cose-type="cose-encrypt0"
COSE_MAC0 = 17  # application/cose; cose-type="cose-mac0"
COSE_SIGN1 = 18  # application/cose; cose-type="cose-sign1"
ACE_CBOR = 19  # application/ace+cbor
LINK_FORMAT = 40  # application/link-format
XML = 41  # application/xml
OCTET_STREAM = 42  # application/octet-stream
EXI = 47  # application/exi
JSON = 50  # application/json
JSON_PATCH = 51  # application/json-patch+json
MERGE_PATCH = 52  # application/merge-patch+json
CBOR = 60  # application/cbor
CWT = 61  # application/cwt
MULTIPART_CORE = 62  # application/multipart-core
CBOR_SEQ = 63  # application/cbor-seq
COSE_ENCRYPT = 96  # application/cose; cose-type="cose-encrypt"
COSE_MAC = 97  # application/cose; cose-type="cose-mac"
COSE_SIGN = 98  # application/cose; cose-type="cose-sign"
COSE_KEY = 101  # application/cose-key
COSE_KEY_SET = 102  # application/cose-key-set
SENML_JSON = 110  # application/senml+json
SENSML_JSON = 111  # application/sensml+json
SENML_CBOR = 112  # application/senml+cbor
SENSML_CBOR = 113  # application/sensml+cbor
SENML_EXI = 114  # application/senml-exi
SENSML_EXI = 115  # application/sensml-exi
YANG_DATA_CBOR = 140  # application/yang-data+cbor
COAP_GROUP_JSON = 256  # application/coap-group+json
SENML_ETCH_JSON = 320  # application/senml-etch+json
SENML_ETCH_CBOR = 322  # application/senml-etch+cbor
OSCORE = 10001  # application/oscore
