import pytest
from django.core.exceptions import ValidationError

from center.forms import IdNumberField
from center.masking import mask_id_number, mask_mobile, mask_name
from center.validators import id_check_character, normalize_id_number, validate_id_number


def make_id(first17: str) -> str:
    return first17 + id_check_character(first17)


def test_check_character_matches_gb11643_examples():
    # Published example: 11010519491231002X.
    assert id_check_character("11010519491231002") == "X"
    assert id_check_character("44052418800101001") == "4"


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",
        "11010519491231002x",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as pasted from some forms
        "110105 19491231 002X",
    ],
)
def test_valid_id_numbers_pass(number):
    assert validate_id_number(number) is None  # raises ValidationError when refused
    assert normalize_id_number(number) == "11010519491231002X"
    # The form field runs both: a valid number comes back normalised, with no error.
    assert IdNumberField().clean(number) == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "id_check"),  # wrong check character
        ("11010519491231002", "id_format"),  # 17 characters
        ("1101051949123100AX", "id_format"),
        ("110105194902300021", "id_birth"),  # 30 February
        ("440524188001010014", "id_birth"),  # born 1880: before 1900
        (make_id("33040221000101001"), "id_birth"),  # born in 2100
        (make_id("99040219900101001"), "id_area"),  # 99 is no province
        (make_id("00040219900101001"), "id_area"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "id_format"),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_invalid_id_numbers_fail_with_a_reason(number, code):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(number)
    assert exc.value.code == code


def test_masking():
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("057382345678") == "0573****5678"
    assert mask_id_number("330402199001011234") == "330402********1234"
    assert mask_name("张三丰") == "张**"
    # A fixed mask: the length of the name does not show.
    assert mask_name("张三") == "张**" and mask_name("欧阳娜娜") == "欧**"
    assert mask_mobile("") == "" and mask_id_number(None) == ""
