"""Django's own strings whose nynorsk translation is bokmål or missing, corrected in our catalogue.

Django's nn catalogues (admin, auth, forms) write some words in bokmål ("Velg %s du ønskar å
redigere", "Brukerløyve") and lack the admin's newer strings ("Model name"). Catalogues under
LOCALE_PATHS come before Django's own, so the nynorsk msgstrs of locale/nn for these msgids win.
Nothing imports this module: it is here so that makemessages keeps these msgids in the catalogue.
"""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = [
    # django/contrib/admin
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("Select %s"),
    gettext_noop("Select all %(total_count)s %(module_name)s"),
    gettext_noop("Hold down “Control”, or “Command” on a Mac, to select more than one."),
    gettext_noop(
        "First, enter a username and password. Then, you’ll be able to edit more user options."
    ),
    gettext_noop("Your password was changed."),
    gettext_noop("Please go to the following page and choose a new password:"),
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Select all objects on this page for an action"),
    # django/contrib/auth
    gettext_noop("user permissions"),
    gettext_noop("A user with that username already exists."),
    # django/forms
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    gettext_noop("Select a valid choice. That choice is not one of the available choices."),
]
