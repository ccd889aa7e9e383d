/* placeholder: implemented by its owner */
typedef int med_placeholder_headers_t;
