// Django admin's own script strings whose nynorsk translation is bokmål ("Velg alle"), corrected
// in locale/nn/LC_MESSAGES/djangojs.po, which comes before Django's catalogue. Never loaded: it is
// here so that makemessages -d djangojs keeps these msgids (see handbook/django_nynorsk.py).
/* global gettext */
[
  gettext("This is the list of available %s. You may choose some by selecting them in the box below and then clicking the \"Choose\" arrow between the two boxes."),
  gettext("Choose all"),
  gettext("Choose a Time"),
  gettext("Choose a time"),
  gettext("Choose a Date")
];
