/* placeholder: implemented by its owner */
typedef int med_placeholder_jwt_t;
