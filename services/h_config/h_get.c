/* placeholder: implemented by its owner */
typedef int h_placeholder_h_get_t;
