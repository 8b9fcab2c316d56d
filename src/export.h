/* export.h - `tend export systemd`: the configuration as systemd service units, one per
 * process, printed or written to a directory. */
#ifndef TEND_EXPORT_H
#define TEND_EXPORT_H

/* argv[0] is "export"; config is -c FILE or NULL. Returns tend's exit status: 0, 2 usage,
 * 78 configuration error, 125 a unit could not be written. */
int export_main(const char *config, int argc, char **argv);

#endif
