"""A JSON string holding an escaped NUL (\\u0000) would be checked cut
short at the NUL by the C validators: the host refuses it, in a plain
string field and inside an array of strings (shared/mt_http.c,
whole_string)."""
from conftest import api, assert_error, bearer


def test_nul_in_a_string_field_is_field_invalid():
    assert_error(api("POST", "/auth/password-login",
                     json={"login": "admin", "password": "x\u0000y"}),
                 400, "field_invalid", "password")
    assert_error(api("POST", "/auth/password-login",
                     json={"login": "admin\u0000", "password": "x"}),
                 400, "field_invalid", "login")


def test_nul_in_an_array_item_is_field_invalid(admin):
    r = api("POST", "/agency/experts", headers=bearer(admin["token"]),
            json={"login": "nulitem", "password": "expert-pass-1",
                  "institution": "H63010200143", "title": "副高",
                  "specialties": ["肿\u0000瘤"]})
    assert_error(r, 400, "field_invalid", "specialties")
