"""Flask-Admin's own words as our screens show them. Flask-Admin translates them through its "admin" domain;
`backoffice.i18n.read_flask_admin_words_from_our_catalogue` makes that domain read our catalogue first, and
this list keeps them in it (`make translations` extracts them from here), with the French a federal tribunal
writes: "Modifier", not "Editer"; "Enregistré.", not "A été enregistrée avec succès.". Only the words of the
screens we use (lists, details, forms, filters, list actions); not those of its file manager or Redis console."""

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

FLASK_ADMIN_WORDS = (
    # list, details and form pages
    _l("List"),
    _l("Create"),
    _l("Edit"),
    _l("Details"),
    _l("Filter"),
    _l("Export"),
    _l("Search"),
    _l("Add Filter"),
    _l("Apply"),
    _l("Reset Filters"),
    _l("View Record"),
    _l("Edit Record"),
    _l("Delete Record"),
    _l("Create New Record"),
    _l("Delete"),
    _l("Delete?"),
    _l("Are you sure you want to delete this record?"),
    _l("Are you sure you want to delete selected records?"),
    _l("With selected"),
    _l("Select all records"),
    _l("Select record"),
    _l("Please select at least one record."),
    _l("Save"),
    _l("Save and Add Another"),
    _l("Save and Continue Editing"),
    _l("Cancel"),
    _l("Sort by %(name)s"),
    _l("items"),
    _l("New"),
    _l("Add"),
    _l("Yes"),
    _l("No"),
    _l("Key"),
    _l("Value"),
    # filter operations
    _l("equals"),
    _l("not equal"),
    _l("contains"),
    _l("not contains"),
    _l("greater than"),
    _l("smaller than"),
    _l("empty"),
    _l("in list"),
    _l("not in list"),
    _l("between"),
    _l("not between"),
    _l("Invalid Filter Value: %(value)s"),
    # messages after saving
    _l("Record was successfully created."),
    _l("Record was successfully saved."),
    _l("Record does not exist."),
    _l("Failed to create record."),
    _l("Failed to save record."),
    _l("Failed to create record. %(error)s"),
    _l("Failed to update record. %(error)s"),
    _l("Failed to delete record. %(error)s"),
    _l("Failed to delete records. %(error)s"),
    _l("Integrity error. %(message)s"),
    _l("Permission denied."),
    _l("Not a valid choice"),
    _l("Invalid Choice: could not coerce"),
    _l("Already exists."),
    _l('Export type "%(type)s" is not supported.'),
)


def page_size_words() -> list[str]:
    """The choices of the page size menu: Flask-Admin writes the number into the message itself ("20 items"),
    so each size is a message of its own, listed here (for extraction, and the screens' sizes, 20, 50, 100)."""
    return [
        ngettext("20 item", "20 items", 20),
        ngettext("50 item", "50 items", 50),
        ngettext("100 item", "100 items", 100),
    ]
